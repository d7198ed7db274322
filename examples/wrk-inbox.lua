-- Load for `hintd serve` from wrk: Chat2Desk `inbox` webhooks, each with a new message id,
-- spread over 10 000 dialogs (the server-only ingest figure of BENCHMARKS.md).
--
--   HINTD__SOURCES__CHAT2DESK__TOKEN=t hintd serve --listen 127.0.0.1:18080 --data sqlite:///tmp/h/h.db
--   wrk -t1 -c32 -d10s -s examples/wrk-inbox.lua http://127.0.0.1:18080
local counter = math.random(1, 1000000000)

request = function()
  counter = counter + 1
  local dialog = counter % 10000 + 1
  local body = string.format(
    '{"message_id": %d, "type": "from_client", "text": "Hello, where is my order 5521? I have been waiting for days", '
      .. '"transport": "telegram", "client_id": "%d", "operator_id": "", "dialog_id": %d, "channel_id": 17404, '
      .. '"photo": "", "coordinates": "", "audio": "", "pdf": "", "client": {"id": %d, "phone": "[tg] 807892", '
      .. '"client_phone": "", "name": "Peter", "assigned_name": "", "external_id": ""}, "hook_type": "inbox", '
      .. '"request_id": 8725057, "attachments": [], "is_new_request": "", "is_new_client": "", "extra_data": [], '
      .. '"event_time": "2019-07-28T23:01:40Z"}',
    500000000 + counter, 100000 + dialog, dialog, 100000 + dialog)
  return wrk.format("POST", "/webhooks/chat2desk?token=t", {["Content-Type"] = "application/json"}, body)
end
