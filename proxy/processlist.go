package proxy

import (
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
)

// maxInfo is how much of a statement's text a session keeps for SHOW
// PROCESSLIST to show (SHOW FULL PROCESSLIST shows all of it, up to this).
const maxInfo = 1 << 10

// activity is what a session is doing, as SHOW PROCESSLIST shows it to
// the sessions that may see it. The session writes it at the start and
// end of each command; other sessions read it under mu.
type activity struct {
	mu      sync.Mutex
	command string // "Query", "Execute", ... or "Sleep" between commands
	since   time.Time
	user    string
	db      string
	info    []byte // the running statement's first maxInfo bytes
}

// begin records the command p the session starts.
func (a *activity) begin(ss *session, p []byte) {
	cmd, text := "Query", []byte(nil)
	switch p[0] {
	case mysql.COM_QUERY:
		text = p[1:]
	case mysql.COM_STMT_EXECUTE, mysql.COM_STMT_FETCH:
		cmd = "Execute"
		if len(p) >= 5 {
			if cs := ss.stmts.m[binary.LittleEndian.Uint32(p[1:])]; cs != nil {
				text = cs.text
			}
		}
	case mysql.COM_STMT_PREPARE:
		cmd, text = "Prepare", p[1:]
	default:
		return // instant commands: the session stays asleep
	}
	a.mu.Lock()
	a.command, a.since = cmd, time.Now()
	a.user, a.db = ss.user.name, ss.state.Schema
	a.info = append(a.info[:0], text[:min(len(text), maxInfo)]...)
	a.mu.Unlock()
}

// idle records the end of the session's command.
func (a *activity) idle(ss *session) {
	a.mu.Lock()
	a.command, a.since = "Sleep", time.Now()
	a.user, a.db = ss.user.name, ss.state.Schema
	a.info = a.info[:0]
	a.mu.Unlock()
}

// process is one row of SHOW PROCESSLIST.
type process struct {
	id                      uint32
	user, host, db, command string
	time                    int64
	info                    []byte
}

func (a *activity) snapshot(id uint32, host string, now time.Time, full bool) process {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := process{id: id, user: a.user, host: host, db: a.db, command: a.command,
		time: int64(now.Sub(a.since) / time.Second)}
	if a.command != "Sleep" {
		n := len(a.info)
		if !full {
			n = min(n, 100)
		}
		p.info = slices.Clone(a.info[:n])
	}
	return p
}

// isProcesslist reports whether a SHOW statement is SHOW [FULL]
// PROCESSLIST, and which.
func isProcesslist(text []byte, mode parser.Mode) (isIt, full bool) {
	w, ok := parser.FirstWords(text, 4, mode)
	switch {
	case !ok || len(w) < 2 || w[0] != "show":
		return false, false
	case w[1] == "processlist" && len(w) == 2:
		return true, false
	case w[1] == "full" && len(w) == 3 && w[2] == "processlist":
		return true, true
	}
	return false, false
}

// processlist answers SHOW [FULL] PROCESSLIST with Courier's sessions, by
// the ids KILL takes: the account's own, or every session for accounts
// that administer. The backends' threads are Courier's pooled connections,
// not the account's to see.
func (s *Server) processlist(by *account, w *clientWriter, full bool) error {
	now := time.Now()
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for _, o := range s.sessions {
		list = append(list, o)
	}
	s.mu.Unlock()
	rows := make([]process, 0, len(list))
	for _, o := range list {
		p := o.act.snapshot(o.id, o.host, now, full)
		if p.user == "" || (p.user != by.name && !by.admin) {
			continue
		}
		rows = append(rows, p)
	}
	slices.SortFunc(rows, func(a, b process) int { return int(a.id) - int(b.id) })
	infoLen := uint32(100)
	if full {
		infoLen = maxInfo
	}
	cols := []engine.Column{
		localColumn("Id", mysql.MYSQL_TYPE_LONGLONG, 21, mysql.NOT_NULL_FLAG|mysql.UNSIGNED_FLAG|mysql.NUM_FLAG),
		localColumn("User", mysql.MYSQL_TYPE_VAR_STRING, 128*4, mysql.NOT_NULL_FLAG),
		localColumn("Host", mysql.MYSQL_TYPE_VAR_STRING, 64*4, mysql.NOT_NULL_FLAG),
		localColumn("db", mysql.MYSQL_TYPE_VAR_STRING, 64*4, 0),
		localColumn("Command", mysql.MYSQL_TYPE_VAR_STRING, 16*4, mysql.NOT_NULL_FLAG),
		localColumn("Time", mysql.MYSQL_TYPE_LONG, 7, mysql.NOT_NULL_FLAG|mysql.NUM_FLAG),
		localColumn("State", mysql.MYSQL_TYPE_VAR_STRING, 30*4, 0),
		localColumn("Info", mysql.MYSQL_TYPE_VAR_STRING, infoLen*4, 0),
		localColumn("Progress", mysql.MYSQL_TYPE_NEWDECIMAL, 7, mysql.NOT_NULL_FLAG|mysql.NUM_FLAG),
	}
	cols[8].Decimals = 3
	cols[8].Packet[len(cols[8].Packet)-3] = 3
	if err := w.Fields(cols); err != nil {
		return err
	}
	for _, p := range rows {
		row := engine.Row{strconv.AppendUint(nil, uint64(p.id), 10), []byte(p.user), []byte(p.host), nil,
			[]byte(p.command), strconv.AppendInt(nil, p.time, 10), []byte{}, nil, []byte("0.000")}
		if p.command != "Sleep" {
			row[6] = []byte("executing")
		}
		if p.db != "" {
			row[3] = []byte(p.db)
		}
		if p.info != nil {
			row[7] = p.info
		}
		if err := w.Row(row); err != nil {
			return err
		}
	}
	return w.End(0)
}

// localColumn is the definition of a column of an answer Courier makes
// itself (utf8mb4 text, or a number in the binary charset).
func localColumn(name string, typ byte, length uint32, flags uint16) engine.Column {
	charset := uint16(45) // utf8mb4_general_ci
	if flags&mysql.NUM_FLAG != 0 {
		charset = 63
	}
	p := wire.AppendLenEncString(nil, "def")
	for _, s := range [...]string{"", "", "", name, ""} {
		p = wire.AppendLenEncString(p, s)
	}
	p = append(p, 0x0c)
	p = binary.LittleEndian.AppendUint16(p, charset)
	p = binary.LittleEndian.AppendUint32(p, length)
	p = append(p, typ)
	p = binary.LittleEndian.AppendUint16(p, flags)
	p = append(p, 0, 0, 0) // decimals, filler
	return engine.Column{Name: name, OrgName: "", Charset: charset, Type: typ, Flags: flags, Packet: p}
}
