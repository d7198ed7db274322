-- The conversation browser lists dialogs newest activity first and pages by the key
-- (updated_at_ms, source, account, dialog_id); this index serves both the order and the seek.
CREATE INDEX dialogs_activity ON dialogs (updated_at_ms, source, account, dialog_id);
