package engine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

const statusQuery = "SELECT COLLATION_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'status'"

func statusCol() Column {
	c := col("status", mysql.MYSQL_TYPE_STRING)
	c.Flags |= mysql.ENUM_FLAG
	c.Schema, c.OrgTable = "shop", "orders"
	return c
}

func TestCatalogMeta(t *testing.T) {
	f := newFake().on(2, statusQuery, &reply{rows: rows("utf8mb4_bin|enum('placed','it''s','a\\\\b')")})
	cat := &Catalog{Cluster: 2}
	c := statusCol()
	for range 2 {
		md, err := cat.Meta(context.Background(), f, &c)
		if err != nil {
			t.Fatal(err)
		}
		if md.Collation != "utf8mb4_bin" || !slices.Equal(md.Enum, []string{"placed", "it's", `a\b`}) {
			t.Fatalf("meta %+v", md)
		}
	}
	if want := []string{"internal 2: " + statusQuery}; !slices.Equal(f.calls, want) {
		t.Fatalf("calls %q, want %q", f.calls, want)
	}
	cat.Clear()
	if _, err := cat.Meta(context.Background(), f, &c); err != nil || len(f.calls) != 2 {
		t.Fatalf("after Clear: %v, calls %q", err, f.calls)
	}
}

func TestCatalogNoLookup(t *testing.T) {
	for _, tt := range []struct {
		name string
		cat  *Catalog
		col  Column
	}{
		{"no catalog", nil, statusCol()},
		{"expression", &Catalog{}, col("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			md, err := tt.cat.Meta(context.Background(), f, &tt.col)
			if md != nil || err != nil || len(f.calls) != 0 {
				t.Fatalf("meta %v, error %v, calls %q", md, err, f.calls)
			}
		})
	}
}

func TestCatalogUnknownAndErrors(t *testing.T) {
	c := statusCol()
	f := newFake() // no reply: no such column (a derived table)
	md, err := (&Catalog{}).Meta(context.Background(), f, &c)
	if err != nil || md == nil || md.Collation != "" || md.Enum != nil {
		t.Fatalf("meta %+v, error %v", md, err)
	}
	boom := errors.New("boom")
	f = newFake().on(0, statusQuery, &reply{err: boom})
	if _, err := (&Catalog{}).Meta(context.Background(), f, &c); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
}

func TestColumnQueryQuoting(t *testing.T) {
	c := Column{Schema: "o'k", OrgTable: `back\slash`, OrgName: "n"}
	want := "SELECT COLLATION_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'o''k' AND TABLE_NAME = _utf8mb4 X'6261636b5c736c617368' AND COLUMN_NAME = 'n'"
	if got := columnQuery(&c); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestEnumMembers(t *testing.T) {
	for _, tt := range []struct {
		list string
		want []string
	}{
		{`'a','b'`, []string{"a", "b"}},
		{`'it''s'`, []string{"it's"}},
		{`'a\\b','c\0','\n\r\Z'`, []string{`a\b`, "c\x00", "\n\r\x1a"}},
		{`''`, []string{""}},
	} {
		t.Run(tt.list, func(t *testing.T) {
			if got := enumMembers(tt.list); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
