-- Change one named counter map of a session atomically, exactly once per operation id.
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then: operation (add, set, remove, clear or undo),
--          field ('c:<map>:<name>'; for clear the map's prefix 'c:<map>:'), amount (add,
--          undo) or value (set), the maximum a counter may reach (add), operation id
--          (undo: then field, amount pairs follow)
--
-- The answers to the last few operation ids are kept in the 'o' field: an id seen again
-- (redis-py re-sending after a timeout, a client retrying with its Idempotency-Key) gets
-- the first answer and changes nothing. A counter that reaches 0 is removed. Counters
-- change only by HINCRBY (set adds the difference): under active-active geo-replication,
-- concurrent increments made in two regions then add up instead of the later one winning.
-- Returns {'ok', new value, change} (clear: {'ok', removed count, field, value, ...}),
-- {'limit', current value} (nothing changed), {'gone'}, {'corrupt'} or {'foreign'}.
local key = KEYS[1]
if foreign(key, 'hash') then
  return {'foreign'}
end
local seen, absolute, version = read_timing(key)
if not seen then
  if redis.call('EXISTS', key) == 0 then
    return {'gone'}
  end
  return {'corrupt'}
end
local operation, field = ARGV[HEADER + 1], ARGV[HEADER + 2]
local amount, maximum, id = tonumber(ARGV[HEADER + 3]), tonumber(ARGV[HEADER + 4]), ARGV[HEADER + 5]

-- Earlier answers: 'id:k:value' or 'id:l:value', comma-separated, newest last.
local recorded = redis.call('HGET', key, OPERATIONS) or ''
for entry_id, status, value in string.gmatch(recorded, '([^:,]+):(%a):(%-?%d+)') do
  if entry_id == id then
    if status == 'l' then
      return {'limit', tonumber(value)}
    end
    return {'ok', tonumber(value), 0}
  end
end

local function remember(status, value)
  local entries = recorded .. (recorded == '' and '' or ',') .. id .. ':' .. status .. ':' .. value
  while #entries > 64 do
    local cut = string.find(entries, ',', 1, true)
    if not cut then
      break
    end
    entries = string.sub(entries, cut + 1)
  end
  redis.call('HSET', key, OPERATIONS, entries)
end

local function change_by(target, change)
  if change == 0 then
    return tonumber(redis.call('HGET', key, target) or '0')
  end
  local new_value = redis.call('HINCRBY', key, target, change)
  if new_value <= 0 then
    redis.call('HDEL', key, target)
    return 0
  end
  return new_value
end

local reply
if operation == 'add' or operation == 'set' or operation == 'remove' then
  local current = tonumber(redis.call('HGET', key, field) or '0')
  if not current then
    return {'corrupt'}
  end
  local change
  if operation == 'add' then
    if current + amount > maximum or current + amount < 0 then
      remember('l', current)
      return {'limit', current}
    end
    change = amount
  elseif operation == 'set' then
    change = math.max(amount, 0) - current
  else
    change = -current
  end
  reply = {'ok', change_by(field, change), change}
  remember('k', reply[2])
elseif operation == 'clear' then
  reply = {'ok', 0}
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if string.sub(name, 1, #field) == field then
      reply[#reply + 1] = name
      reply[#reply + 1] = redis.call('HGET', key, name)
      redis.call('HDEL', key, name)
      reply[2] = reply[2] + 1
    end
  end
  remember('k', reply[2])
elseif operation == 'undo' then
  for i = HEADER + 6, #ARGV, 2 do
    change_by(ARGV[i], tonumber(ARGV[i + 1]))
  end
  reply = {'ok', 0, 0}
  remember('k', 0)
else
  return redis.error_reply('unknown counter operation ' .. operation)
end

write_meta(key, NOW, absolute, SESSION_IDLE, version)
return reply
