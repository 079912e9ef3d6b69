-- Drives Neovim's built-in LSP client against `llamapilot lsp` (see test_neovim.py).
-- Every step waits for a condition (polled by timers), never for a fixed time.
local out = {}
local function finish()
  vim.fn.writefile(out, os.getenv("LP_RESULT"))
  vim.cmd("stopinsert")
  vim.lsp.stop_client(vim.lsp.get_clients())
  vim.schedule(function() vim.cmd("qa!") end)
end

local function poll(cond, then_fn, tries)
  tries = tries or 2400
  if cond() then return then_fn(true) end
  if tries <= 0 then return then_fn(false) end
  vim.defer_fn(function() poll(cond, then_fn, tries - 1) end, 25)
end

local client_id = vim.lsp.start({
  name = "llamapilot",
  cmd = { os.getenv("LP_PYTHON"), "-m", "llamapilot", "lsp" },
  root_dir = vim.fn.getcwd(),
  init_options = { maxTokens = 16 },
}, { bufnr = 0 })

poll(function()
  local c = vim.lsp.get_client_by_id(client_id)
  return c ~= nil and c.initialized
end, function(attached)
  table.insert(out, "attached=" .. tostring(attached))
  if not attached then return finish() end
  vim.lsp.inline_completion.enable(true)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.cmd("startinsert!") -- the client asks for a suggestion by itself (debounced)
  local ns = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")
  poll(function()
    return #vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, {}) > 0
  end, function(shown)
    table.insert(out, "shown=" .. tostring(shown))
    if not shown then return finish() end
    local mark = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })[1]
    table.insert(out, "ghost=" .. mark[4].virt_text[1][1])
    local before = vim.api.nvim_buf_get_lines(0, 1, 2, true)[1]
    table.insert(out, "accepted=" .. tostring(vim.lsp.inline_completion.get()))
    poll(function()
      return vim.api.nvim_buf_get_lines(0, 1, 2, true)[1] ~= before
    end, function()
      table.insert(out, "line=" .. vim.api.nvim_buf_get_lines(0, 1, 2, true)[1])
      -- the accept command went out right after the edit; this request follows it
      local client = vim.lsp.get_client_by_id(client_id)
      client:request("workspace/executeCommand", {
        command = "llamapilot/inspect",
        arguments = {},
      }, function(_, res)
        table.insert(out, "feedback=" .. tostring(res and res.feedback))
        finish()
      end)
    end)
  end)
end)
