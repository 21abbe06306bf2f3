-- scatter.lua: the sysbench workload of the harness's scatter mode. Each
-- event runs --query once as a text statement, every "?" in it replaced by
-- a random integer from --param_min to --param_max.
sysbench.cmdline.options = {
   query = {"SQL statement to run; each ? becomes a random integer",
            "SELECT order_id FROM orders WHERE total_cents = ?"},
   param_min = {"smallest integer put in place of ?", 500},
   param_max = {"largest integer put in place of ?", 10499},
}

function thread_init()
   drv = sysbench.sql.driver()
   con = drv:connect()
end

function thread_done()
   con:disconnect()
end

local function param()
   return tostring(sysbench.rand.uniform(sysbench.opt.param_min, sysbench.opt.param_max))
end

function event()
   con:query((string.gsub(sysbench.opt.query, "%?", param)))
end
