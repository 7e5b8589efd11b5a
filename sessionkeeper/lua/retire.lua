-- @uses failed
-- Delete a session that a new one replaces (a login's new key, the session a cart is carried
-- into after an expiry), sent in the same pipeline as the new one's creation.
--
-- KEYS[1]  the old session hash
-- ARGV     the header (_layout.lua)
--
-- A pipeline is not a transaction: a full Redis (noeviction) refuses the creation yet would
-- still run a DEL, and the session would be gone with nothing in its place. A write first is
-- refused in that same case, so the old session is only ever deleted beside its replacement.
-- Returns 1 when a key was deleted, else 0; an OOM error when Redis is full.
local guard = redis.pcall('HSETNX', KEYS[1], OPERATIONS, '')
if failed(guard) and string.sub(guard['err'], 1, 3) == 'OOM' then
  return guard
end
return redis.call('DEL', KEYS[1])
