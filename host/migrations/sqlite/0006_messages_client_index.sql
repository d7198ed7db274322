-- A client's messages are found through the events that carried them (`events_client`: every
-- message row was written by an event with the same client and dialog, and a merge moves
-- both), so the messages' own client index only cost one more random index write per
-- message.
DROP INDEX IF EXISTS messages_client;
