"""Chat: conversations rendered with the model's own chat template (``chat.template``)
and answers to them through the completion service (``chat.ask``)."""
