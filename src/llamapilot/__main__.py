from llamapilot.cli import main

raise SystemExit(main())
