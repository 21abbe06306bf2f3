package proxy_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/testbed"
)

// TestRandomCommandsAfterLogin sends authenticated connections thousands
// of random and mangled commands. Each gets an answer or a disconnect;
// no session panics; other clients keep being served.
func TestRandomCommandsAfterLogin(t *testing.T) {
	if cluster == nil {
		testbed.Require(t)
		t.Skip("no cluster")
	}
	core, logs := observer.New(zap.ErrorLevel)
	cfg := testbed.Config(cluster)
	cfg.Limits.MaxPacketSize = 1 << 20
	cfg.LoginThrottle.AddressFailures = 0 // random COM_CHANGE_USERs fail to log in on purpose
	cfg.LoginThrottle.UserFailures = 0
	c, err := testbed.Start(cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	ctx := context.Background()
	dial := func() *backend.Conn {
		bc, err := backend.Dial(ctx, backend.Options{Addr: c.Addr, User: "app", Password: "app"}, backend.FlavourPlain)
		if err != nil {
			t.Fatal(err)
		}
		return bc
	}
	good := dial()
	defer good.Close()

	rng := rand.New(rand.NewPCG(1, 2))
	cmds := []byte{mysql.COM_QUERY, mysql.COM_STMT_PREPARE, mysql.COM_STMT_EXECUTE, mysql.COM_STMT_CLOSE,
		mysql.COM_STMT_RESET, mysql.COM_STMT_SEND_LONG_DATA, mysql.COM_STMT_FETCH, mysql.COM_FIELD_LIST,
		mysql.COM_INIT_DB, mysql.COM_SET_OPTION, mysql.COM_CHANGE_USER, mysql.COM_PROCESS_KILL,
		mysql.COM_RESET_CONNECTION, mysql.COM_PING, mysql.COM_STATISTICS, 0x1f, 0xff}
	conn := dial()
	var stmtID uint32
	deadline := time.Now().Add(15 * time.Second)
	n := 0
	for ; n < 1500 && time.Now().Before(deadline); n++ {
		p := []byte{cmds[rng.IntN(len(cmds))]}
		switch rng.IntN(4) {
		case 0: // a valid statement id, sometimes
			p = append(p, byte(stmtID), byte(stmtID>>8), byte(stmtID>>16), byte(stmtID>>24))
		case 1:
			p = append(p, "SELECT 1"...)
		}
		for range rng.IntN(24) {
			p = append(p, byte(rng.IntN(256)))
		}
		if p[0] == mysql.COM_STMT_PREPARE && rng.IntN(2) == 0 {
			p = append([]byte{mysql.COM_STMT_PREPARE}, "SELECT ?, ?"...)
		}
		if p[0] == mysql.COM_QUIT {
			continue
		}
		if err := conn.WriteCommand(p); err != nil {
			conn.Close()
			conn = dial()
			continue
		}
		// Read what comes back until the server is quiet; a closed
		// connection is a fine answer to garbage.
		conn.SetDeadline(time.Now().Add(10 * time.Millisecond))
		reply, err := conn.Wire().ReadPacket(1 << 24)
		if err == nil && p[0] == mysql.COM_STMT_PREPARE && len(reply) >= 12 && reply[0] == 0 {
			stmtID = uint32(reply[1]) | uint32(reply[2])<<8 | uint32(reply[3])<<16 | uint32(reply[4])<<24
		}
		for err == nil {
			_, err = conn.Wire().ReadPacket(1 << 24)
		}
		conn.Close()
		conn = dial()
	}
	conn.Close()
	t.Logf("%d random commands sent", n)
	if n := logs.FilterMessage("session panic").Len(); n > 0 {
		t.Fatalf("%d session panics; first: %v", n, logs.FilterMessage("session panic").All()[0].ContextMap())
	}
	rows, err := good.Query(ctx, "SELECT 42")
	if err != nil || rows[0][0].Text != "42" {
		t.Fatalf("good client after the garbage: %v %v", rows, err)
	}
}
