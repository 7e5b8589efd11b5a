-- @uses read_state bury foreign digest_of
-- Sign sessions out, each only when it belongs to the given user (the "Active sessions" page,
-- a password change, the cap on a user's sessions).
--
-- KEYS     the session hashes; when ARGV says so, the last key is the user's account record
--          (layout 3: then every key is in the user's slot, and their index entries go too)
-- ARGV     the header (_layout.lua), then: the user id, the reason ('' deletes the session;
--          else a tombstone keeps the reason for its cookie's holder), '1' when the last key is
--          the account record
--
-- Returns {sessions signed out, keys left alone because they hold something this engine did not write}.
local user, reason, with_account = ARGV[HEADER + 1], ARGV[HEADER + 2], ARGV[HEADER + 3] == '1'
local last = with_account and #KEYS - 1 or #KEYS
local revoked, foreign_keys, gone = 0, 0, {}
for i = 1, last do
  local state = read_state(KEYS[i])
  if not state then
    foreign_keys = foreign_keys + 1
  elseif state.user and state.user == user and not state.ended then
    if reason == '' or LAYOUT < 3 then -- the releases that write layouts 1 and 2 know no tombstones
      redis.call('DEL', KEYS[i])
    else
      bury(KEYS[i], reason)
    end
    revoked = revoked + 1
    gone[#gone + 1] = INDEX .. digest_of(KEYS[i])
  end
end
if with_account and #gone > 0 and not foreign(KEYS[#KEYS], 'hash') then
  redis.call('HDEL', KEYS[#KEYS], unpack(gone))
end
return {revoked, foreign_keys}
