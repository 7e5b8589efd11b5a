-- @uses read_state foreign answered remember write_meta keep_account
-- Change one named counter map atomically, exactly once per operation id: a session's own map,
-- or (layout 3, signed in) a map kept with the session's account.
--
-- KEYS[1]  the session hash; KEYS[2] the account record holding the map (absent: the session holds it)
-- ARGV     the header (_layout.lua), then: operation (add, set, remove, clear or undo),
--          field ('c:<map>:<name>'; for clear the map's prefix 'c:<map>:'), amount (add,
--          undo) or value (set), the maximum a counter may reach (add), operation id, the
--          session's user (with KEYS[2]: the change is refused unless the session is still theirs),
--          then for undo: field, amount pairs
--
-- The answers to the last few operation ids are kept in the 'o' field of the hash changed: an
-- id seen again (redis-py re-sending after a timeout, a client retrying with its Idempotency-Key)
-- gets the first answer and changes nothing. A counter that reaches 0 is removed. Counters
-- change only by HINCRBY (set adds the difference): under active-active geo-replication,
-- concurrent increments made in two regions then add up instead of the later one winning.
-- Returns {'ok', new value, change} (clear: {'ok', removed count, field, value, ...}),
-- {'limit', current value} (nothing changed), {'gone'}, {'corrupt'} or {'foreign'}.
local key, target = KEYS[1], KEYS[2] or KEYS[1]
local state = read_state(key)
if not state then
  return {'foreign'}
end
local seen, absolute, version = state.seen, state.absolute, state.version
if not seen then
  if state.ended or redis.call('EXISTS', key) == 0 then
    return {'gone'}
  end
  return {'corrupt'}
end
local operation, field = ARGV[HEADER + 1], ARGV[HEADER + 2]
local amount, maximum, id = tonumber(ARGV[HEADER + 3]), tonumber(ARGV[HEADER + 4]), ARGV[HEADER + 5]
if KEYS[2] then
  -- Revoked or signed out since the request loaded it: the account is not this session's to change.
  if state.user ~= ARGV[HEADER + 6] then
    return {'gone'}
  end
  if foreign(target, 'hash') then
    redis.call('DEL', target) -- not this engine's: replaced, and this change refused
    return {'foreign'}
  end
end

local recorded = redis.call('HGET', target, OPERATIONS) or ''
local earlier, earlier_value = answered(recorded, id)
if earlier == 'l' then
  return {'limit', earlier_value}
elseif earlier then
  return {'ok', earlier_value, 0}
end

local function change_by(counter, change)
  if change == 0 then
    return tonumber(redis.call('HGET', target, counter) or '0')
  end
  local new_value = redis.call('HINCRBY', target, counter, change)
  if new_value <= 0 then
    redis.call('HDEL', target, counter)
    return 0
  end
  return new_value
end

local reply
if operation == 'add' or operation == 'set' or operation == 'remove' then
  local current = tonumber(redis.call('HGET', target, field) or '0')
  if not current then
    return {'corrupt'}
  end
  local change
  if operation == 'add' then
    if current + amount > maximum or current + amount < 0 then
      remember(target, recorded, id, 'l', current)
      return {'limit', current}
    end
    change = amount
  elseif operation == 'set' then
    change = math.max(amount, 0) - current
  else
    change = -current
  end
  reply = {'ok', change_by(field, change), change}
  remember(target, recorded, id, 'k', reply[2])
elseif operation == 'clear' then
  reply = {'ok', 0}
  for _, name in ipairs(redis.call('HKEYS', target)) do
    if string.sub(name, 1, #field) == field then
      reply[#reply + 1] = name
      reply[#reply + 1] = redis.call('HGET', target, name)
      redis.call('HDEL', target, name)
      reply[2] = reply[2] + 1
    end
  end
  remember(target, recorded, id, 'k', reply[2])
elseif operation == 'undo' then
  for i = HEADER + 7, #ARGV, 2 do
    change_by(ARGV[i], tonumber(ARGV[i + 1]))
  end
  reply = {'ok', 0, 0}
  remember(target, recorded, id, 'k', 0)
else
  return redis.error_reply('unknown counter operation ' .. operation)
end

write_meta(key, NOW, absolute, SESSION_IDLE, version)
if KEYS[2] then
  keep_account(target)
end
return reply
