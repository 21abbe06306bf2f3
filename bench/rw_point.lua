-- rw_point.lua: the harness's read/write workload that a sharded layout
-- answers statement by statement. Each event, in autocommit (no BEGIN or
-- COMMIT), picks a random table and row and runs
--
--   UPDATE sbtestN SET k=k+1 WHERE id=<row>
--   SELECT c FROM sbtestN WHERE id=<row>       (the row just written)
--   SELECT c FROM sbtestN WHERE id=<other>     (another random row)
--
-- so every statement names one id, the sharding key, and a read follows a
-- write of the same session: with replicas and causal consistency, that
-- read waits for its replica to apply the write or goes to the primary.
-- The statements are prepared through sysbench's SQL API, so
-- --db-ps-mode=disable sends them as text and auto as binary-protocol
-- prepared statements. It uses the tables oltp_* prepare creates.
sysbench.cmdline.options = {
   tables = {"Number of tables", 1},
   table_size = {"Number of rows per table", 10000},
}

local function prepare(sql, t)
   local s = con:prepare(string.format(sql, t))
   local p = s:bind_create(sysbench.sql.type.INT)
   s:bind_param(p)
   return {stmt = s, param = p}
end

function thread_init()
   drv = sysbench.sql.driver()
   con = drv:connect()
   stmts = {}
   for t = 1, sysbench.opt.tables do
      stmts[t] = {
         update = prepare("UPDATE sbtest%d SET k=k+1 WHERE id=?", t),
         select = prepare("SELECT c FROM sbtest%d WHERE id=?", t),
      }
   end
end

function thread_done()
   for t = 1, sysbench.opt.tables do
      stmts[t].update.stmt:close()
      stmts[t].select.stmt:close()
   end
   con:disconnect()
end

local function run(s, id)
   s.param:set(id)
   s.stmt:execute()
end

function event()
   local st = stmts[sysbench.rand.uniform(1, sysbench.opt.tables)]
   local id = sysbench.rand.default(1, sysbench.opt.table_size)
   run(st.update, id)
   run(st.select, id)
   run(st.select, sysbench.rand.default(1, sysbench.opt.table_size))
end
