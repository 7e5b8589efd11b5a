-- Delete a session only when it belongs to the given user (revoking from the "Active sessions" page).
--
-- KEYS[1]  the session hash
-- ARGV[1]  the user id
--
-- Returns 1 when the session was deleted, 0 when it was gone or belongs to someone else.
local owner = redis.call('HGET', KEYS[1], 'm:uid')
if owner and owner == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
