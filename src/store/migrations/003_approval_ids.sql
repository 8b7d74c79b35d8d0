-- Request ids come from a sequence: short enough to read out on a call, and never colliding
-- (they were 24 random bits, where a collision was an internal error).
create sequence approval_request_seq;
