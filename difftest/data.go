package difftest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Sizes says how much data Generate makes.
type Sizes struct {
	Users, Merchants, Riders, Orders int
}

// DefaultSizes is the differential suite's data set: enough orders that
// every shard holds thousands and the heavy users span all shards.
var DefaultSizes = Sizes{Users: 2000, Merchants: 150, Riders: 300, Orders: 30000}

// Order is one generated row of orders. RiderID 0 stands for NULL.
type Order struct {
	ID, UserID, MerchantID, RiderID int64
	CityID                          int
	Status                          string
	TotalCents                      int
	CreatedAt                       time.Time
}

// Item is one generated row of order_items.
type Item struct {
	OrderID            int64
	LineNo, Qty, Price int
	Name               string
}

// Dataset is a generated content of the delivery schema
// (testdata/delivery/schema.sql). The same seed gives the same rows.
type Dataset struct {
	Sizes  Sizes
	Orders []Order
	Items  []Item
	// HeavyUsers are the users with the most orders, most active first.
	HeavyUsers []int64
	// Start and End bound every order's created_at.
	Start, End time.Time

	tables []Table
}

// Statuses are the values of orders.status, in the ENUM's order.
var Statuses = []string{"placed", "accepted", "picked_up", "delivered", "cancelled"}

// cities are the reference rows; the last two have no orders.
var cities = [][]string{
	{"1", "Lisboa", "PT", "Europe/Lisbon"}, {"2", "Porto", "PT", "Europe/Lisbon"},
	{"3", "Madrid", "ES", "Europe/Madrid"}, {"4", "Barcelona", "ES", "Europe/Madrid"},
	{"5", "São Paulo", "BR", "America/Sao_Paulo"}, {"6", "Jakarta", "ID", "Asia/Jakarta"},
	{"7", "Berlin", "DE", "Europe/Berlin"}, {"8", "Kraków", "PL", "Europe/Warsaw"},
	{"9", "Oslo", "NO", "Europe/Oslo"}, {"10", "Zürich", "CH", "Europe/Zurich"},
}

// orderCities is how many cities have orders.
const orderCities = 8

// itemNames are menu items; some need escaping in SQL, some differ only
// in case or accents (equal under the default collation), one is 4-byte
// UTF-8.
var itemNames = []string{
	"pizza margherita", "Pizza Margherita", "burger", "fries", "salad", "chef's special",
	"café au lait", "cafe au lait", "pão de queijo", "100% juice", "back\\slash combo",
	"sushi 🍣 box", "pad thai", "ramen", "kebab", "water", "tiramisu", "under_score",
}

// vehicles are the values of riders.vehicle.
var vehicles = []string{"bike", "scooter", "car"}

// Generate makes a dataset from seed.
func Generate(seed uint64, sz Sizes) *Dataset {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	d := &Dataset{
		Sizes: sz,
		Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	d.End = d.Start.Add(180 * 24 * time.Hour)

	// Users and riders are chosen by a Zipf law over a shuffled rank, so a
	// few ids carry most orders without being the smallest ids.
	userRank := r.Perm(sz.Users)
	riderRank := r.Perm(sz.Riders)
	userZipf := rand.NewZipf(r, 1.1, 4, uint64(sz.Users-1))
	riderZipf := rand.NewZipf(r, 1.05, 8, uint64(sz.Riders-1))
	merchantZipf := rand.NewZipf(r, 1.3, 10, uint64(sz.Merchants-1))
	perUser := map[int64]int{}

	span := d.End.Sub(d.Start)
	for i := range sz.Orders {
		o := Order{
			UserID:     int64(userRank[userZipf.Uint64()]) + 1,
			MerchantID: int64(merchantZipf.Uint64()) + 1,
			CityID:     1 + r.IntN(orderCities),
			Status:     pickStatus(r),
			TotalCents: 300 + r.IntN(2000) + r.IntN(2000)*r.IntN(10),
		}
		// Keys: 0 (which MariaDB also finds for a string that is not a
		// number), then small and sparse ones (so that absent keys lie
		// between present ones), and at the end fifty far up the BIGINT
		// range and fifty negative ones.
		switch {
		case i == 0:
			o.ID = 0
		case i < sz.Orders-100:
			o.ID = 1000 + 4*int64(i) + r.Int64N(4)
		case i < sz.Orders-50:
			o.ID = 1<<40 + int64(i)*1_000_003
		default:
			o.ID = -(1<<40 + int64(i)*1_000_003)
		}
		if r.IntN(10) > 0 {
			o.RiderID = int64(riderRank[riderZipf.Uint64()]) + 1
		}
		// Timestamps carry milliseconds; one in twenty repeats the previous
		// order's, so ORDER BY created_at alone has ties.
		if i > 0 && r.IntN(20) == 0 {
			o.CreatedAt = d.Orders[i-1].CreatedAt
		} else {
			o.CreatedAt = d.Start.Add(time.Duration(r.Int64N(int64(span))).Truncate(time.Millisecond))
		}
		perUser[o.UserID]++
		d.Orders = append(d.Orders, o)
		for line := range 1 + r.IntN(4) {
			d.Items = append(d.Items, Item{
				OrderID: o.ID, LineNo: line + 1, Name: itemNames[r.IntN(len(itemNames))],
				Qty: 1 + r.IntN(3)*r.IntN(3), Price: 100 + 50*r.IntN(60),
			})
		}
	}
	for rank := range 10 {
		d.HeavyUsers = append(d.HeavyUsers, int64(userRank[rank])+1)
	}

	d.tables = []Table{d.cityTable(), d.userTable(r), d.merchantTable(r), d.riderTable(), d.orderTable(), d.itemTable()}
	return d
}

// pickStatus draws a status: most orders are delivered.
func pickStatus(r *rand.Rand) string {
	switch n := r.IntN(100); {
	case n < 60:
		return "delivered"
	case n < 70:
		return "cancelled"
	case n < 80:
		return "placed"
	case n < 90:
		return "accepted"
	default:
		return "picked_up"
	}
}

// Table is one table's generated rows, as SQL literals.
type Table struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Tables lists every table's rows in load order.
func (d *Dataset) Tables() []Table { return d.tables }

// Inserts returns multi-row INSERTs of the table's rows, batch rows each,
// naming every column (so a sharded table's key is always given).
func (t Table) Inserts(batch int) []string {
	var out []string
	head := "INSERT INTO " + t.Name + " (" + strings.Join(t.Columns, ", ") + ") VALUES "
	for lo := 0; lo < len(t.Rows); lo += batch {
		var b strings.Builder
		b.WriteString(head)
		for i, row := range t.Rows[lo:min(lo+batch, len(t.Rows))] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + strings.Join(row, ", ") + ")")
		}
		out = append(out, b.String())
	}
	return out
}

func (d *Dataset) cityTable() Table {
	t := Table{Name: "cities", Columns: []string{"city_id", "name", "country", "timezone"}}
	for _, c := range cities {
		t.Rows = append(t.Rows, []string{c[0], Quote(c[1]), Quote(c[2]), Quote(c[3])})
	}
	return t
}

func (d *Dataset) userTable(r *rand.Rand) Table {
	t := Table{Name: "users", Columns: []string{"user_id", "name", "email", "city_id", "created_at"}}
	for id := 1; id <= d.Sizes.Users; id++ {
		created := d.Start.Add(-time.Duration(r.IntN(365*24)) * time.Hour)
		t.Rows = append(t.Rows, []string{strconv.Itoa(id), Quote(fmt.Sprintf("user %d", id)),
			Quote(fmt.Sprintf("user%d@example.com", id)), strconv.Itoa(1 + r.IntN(orderCities)), Quote(created.Format(time.DateTime))})
	}
	return t
}

func (d *Dataset) merchantTable(r *rand.Rand) Table {
	t := Table{Name: "merchants", Columns: []string{"merchant_id", "name", "city_id", "rating"}}
	for id := 1; id <= d.Sizes.Merchants; id++ {
		rating := "NULL"
		if r.IntN(8) > 0 {
			rating = fmt.Sprintf("%d.%d", 3+r.IntN(2), r.IntN(10))
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(id), Quote(fmt.Sprintf("merchant %d", id)), strconv.Itoa(1 + id%orderCities), rating})
	}
	return t
}

func (d *Dataset) riderTable() Table {
	t := Table{Name: "riders", Columns: []string{"rider_id", "name", "city_id", "vehicle"}}
	for id := 1; id <= d.Sizes.Riders; id++ {
		t.Rows = append(t.Rows, []string{strconv.Itoa(id), Quote(fmt.Sprintf("rider %d", id)), strconv.Itoa(1 + id%orderCities), Quote(vehicles[id%3])})
	}
	return t
}

// OrderColumns are the columns of orders, in table order.
var OrderColumns = []string{"order_id", "user_id", "merchant_id", "rider_id", "city_id", "status", "total_cents", "created_at"}

// ItemColumns are the columns of order_items, in table order.
var ItemColumns = []string{"order_id", "line_no", "item", "qty", "price_cents"}

func (d *Dataset) orderTable() Table {
	t := Table{Name: "orders", Columns: OrderColumns}
	for _, o := range d.Orders {
		t.Rows = append(t.Rows, o.Literals())
	}
	return t
}

func (d *Dataset) itemTable() Table {
	t := Table{Name: "order_items", Columns: ItemColumns}
	for _, it := range d.Items {
		t.Rows = append(t.Rows, it.Literals())
	}
	return t
}

// Literals is the order as SQL literals, in OrderColumns order.
func (o Order) Literals() []string {
	rider := "NULL"
	if o.RiderID != 0 {
		rider = strconv.FormatInt(o.RiderID, 10)
	}
	return []string{strconv.FormatInt(o.ID, 10), strconv.FormatInt(o.UserID, 10), strconv.FormatInt(o.MerchantID, 10),
		rider, strconv.Itoa(o.CityID), Quote(o.Status), strconv.Itoa(o.TotalCents), Quote(Timestamp(o.CreatedAt))}
}

// Literals is the item as SQL literals, in ItemColumns order.
func (it Item) Literals() []string {
	return []string{strconv.FormatInt(it.OrderID, 10), strconv.Itoa(it.LineNo), Quote(it.Name), strconv.Itoa(it.Qty), strconv.Itoa(it.Price)}
}

// Timestamp formats t as a DATETIME(3) value.
func Timestamp(t time.Time) string { return t.Format("2006-01-02 15:04:05.000") }

// Quote makes s a single-quoted SQL string literal (for MariaDB's default
// sql_mode, where backslash escapes).
func Quote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// TableStatements returns the CREATE TABLE statements of a schema file
// such as testdata/delivery/schema.sql, without its comments, CREATE
// DATABASE and USE (the caller picks the database).
func TableStatements(schema string) []string {
	var lines []string
	for _, l := range strings.Split(schema, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	for _, st := range strings.Split(strings.Join(lines, "\n"), ";") {
		st = strings.TrimSpace(st)
		if strings.HasPrefix(strings.ToUpper(st), "CREATE TABLE") {
			out = append(out, st)
		}
	}
	return out
}
