-- Delete a session only when it belongs to the given user (the "Active sessions" page).
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then the user id
--
-- Returns 1 when the session was deleted, 0 when it was gone or someone else's,
-- -1 when the key holds something this engine did not write (left alone).
local key = KEYS[1]
if foreign(key, 'hash') then
  return -1
end
local values = redis.call('HMGET', key, unpack(USER_FIELDS))
local fields = {}
for i, name in ipairs(USER_FIELDS) do
  fields[name] = values[i] or nil
end
local owner = user_of(fields)
if owner and owner == ARGV[HEADER + 1] then
  redis.call('DEL', key)
  return 1
end
return 0
