package proxy

import (
	"encoding/binary"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/config"
)

func buildHandshakeResponse(caps uint32, user string, auth []byte, db, plugin string) []byte {
	p := binary.LittleEndian.AppendUint32(nil, caps)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 45)
	p = append(p, make([]byte, 23)...)
	p = append(append(p, user...), 0)
	p = append(append(p, byte(len(auth))), auth...)
	p = append(append(p, db...), 0)
	return append(append(p, plugin...), 0)
}

func TestParseHandshakeResponse(t *testing.T) {
	caps := mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_PLUGIN_AUTH
	hr, err := parseHandshakeResponse(buildHandshakeResponse(caps, "app", []byte("12345678901234567890"), "delivery", "caching_sha2_password"))
	if err != nil {
		t.Fatal(err)
	}
	if hr.user != "app" || string(hr.auth) != "12345678901234567890" || hr.db != "delivery" ||
		hr.plugin != "caching_sha2_password" || hr.collation != 45 {
		t.Fatalf("parsed %+v", hr)
	}
	if _, err := parseHandshakeResponse(buildHandshakeResponse(mysql.CLIENT_SECURE_CONNECTION, "app", nil, "", "")); err == nil {
		t.Fatal("accepted a client without protocol 4.1")
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, make([]byte, 31)} {
		if _, err := parseHandshakeResponse(bad); err == nil {
			t.Fatalf("accepted %x", bad)
		}
	}
}

func FuzzParseHandshakeResponse(f *testing.F) {
	caps := mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_PLUGIN_AUTH
	f.Add(buildHandshakeResponse(caps, "app", []byte("x"), "db", "mysql_native_password"))
	f.Add(buildHandshakeResponse(caps|mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, "", nil, "", ""))
	f.Fuzz(func(t *testing.T, p []byte) { _, _ = parseHandshakeResponse(p) })
}

func TestAccountChecks(t *testing.T) {
	accts, err := loadAccounts(nil, nil)
	if err != nil || len(accts) != 0 {
		t.Fatal(err)
	}
	salt := []byte("abcdefghij0123456789")
	full, _ := loadAccounts([]config.User{{Name: "app", Password: "app"}, {Name: "h", PasswordHash: "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3"}}, nil)
	a := full["app"]
	if !a.checkNative(salt, mysql.CalcNativePassword(salt, []byte("app"))) || a.checkNative(salt, mysql.CalcNativePassword(salt, []byte("x"))) {
		t.Fatal("native check")
	}
	if !a.checkSha2(salt, mysql.CalcCachingSha2Password(salt, []byte("app"))) || a.checkSha2(salt, []byte("nope")) {
		t.Fatal("sha2 check")
	}
	h := full["h"]
	if !h.checkNative(salt, mysql.CalcNativePassword(salt, []byte("app"))) || !h.checkClear([]byte("app")) || h.checkClear([]byte("ap")) {
		t.Fatal("hash-only account")
	}
	if h.checkSha2(salt, mysql.CalcCachingSha2Password(salt, []byte("app"))) {
		t.Fatal("sha2 fast path needs the plain password")
	}
}
