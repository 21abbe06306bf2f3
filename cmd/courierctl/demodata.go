package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// demoTable is the generated content of one table of the delivery schema
// (testdata/delivery/schema.sql): its columns and its rows as SQL value
// tuples, in key order.
type demoTable struct {
	Name    string
	Columns []string
	Rows    []string // "(1, 'Lisboa', ...)"
}

// demoSize says how much sample data to generate.
type demoSize struct {
	Users, Merchants, Riders, Orders int
}

// defaultDemoSize is the demo's data set: a few thousand orders.
var defaultDemoSize = demoSize{Users: 1000, Merchants: 100, Riders: 200, Orders: 5000}

// demoCities are the reference table's rows: id, name, country, time zone.
var demoCities = [][4]string{
	{"1", "Lisboa", "PT", "Europe/Lisbon"}, {"2", "Porto", "PT", "Europe/Lisbon"},
	{"3", "Madrid", "ES", "Europe/Madrid"}, {"4", "Barcelona", "ES", "Europe/Madrid"},
	{"5", "São Paulo", "BR", "America/Sao_Paulo"}, {"6", "Jakarta", "ID", "Asia/Jakarta"},
	{"7", "Berlin", "DE", "Europe/Berlin"}, {"8", "Kraków", "PL", "Europe/Warsaw"},
}

// demoMenu is what order lines are made of, with a base price in cents.
var demoMenu = []struct {
	item  string
	price int
}{
	{"pizza", 1150}, {"burger", 890}, {"salad", 720}, {"sushi", 1480},
	{"noodles", 960}, {"soda", 250}, {"fries", 390}, {"ice cream", 450},
}

// demoStatuses are order states with their share of orders (in percent).
var demoStatuses = []struct {
	name  string
	share int
}{
	{"delivered", 70}, {"cancelled", 8}, {"picked_up", 7}, {"accepted", 7}, {"placed", 8},
}

// deliveryFee is added to every order's total, in cents.
const deliveryFee = 299

// generateDemo returns the sample data set for seed: cities (reference
// data), users, merchants and riders (unsharded), orders and their lines
// (sharded by order_id). The same seed and size always give the same rows.
// Users and riders are skewed, as in real traffic: a few very active users
// place many orders and a few riders deliver most of them.
func generateDemo(seed uint64, n demoSize) []demoTable {
	rng := rand.New(rand.NewPCG(seed, 0x636f7572696572)) // "courier"
	cities := demoTable{Name: "cities", Columns: []string{"city_id", "name", "country", "timezone"}}
	for _, c := range demoCities {
		cities.Rows = append(cities.Rows, tuple(c[0], quote(c[1]), quote(c[2]), quote(c[3])))
	}

	userCity := make([]int, n.Users+1)
	users := demoTable{Name: "users", Columns: []string{"user_id", "name", "email", "city_id", "created_at"}}
	joined := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for id := 1; id <= n.Users; id++ {
		userCity[id] = 1 + rng.IntN(len(demoCities))
		users.Rows = append(users.Rows, tuple(itoa(id), quote(fmt.Sprintf("user %d", id)),
			quote(fmt.Sprintf("user%d@example.com", id)), itoa(userCity[id]),
			quote(joined.Add(time.Duration(id)*37*time.Minute).Format(time.DateTime))))
	}

	merchants := demoTable{Name: "merchants", Columns: []string{"merchant_id", "name", "city_id", "rating"}}
	for id := 1; id <= n.Merchants; id++ {
		rating := "NULL" // new merchants have no rating yet
		if id%10 != 0 {
			rating = strconv.FormatFloat(3+float64(rng.IntN(21))/10, 'f', 1, 64)
		}
		merchants.Rows = append(merchants.Rows, tuple(itoa(id), quote(fmt.Sprintf("merchant %d", id)),
			itoa(1+id%len(demoCities)), rating))
	}

	riders := demoTable{Name: "riders", Columns: []string{"rider_id", "name", "city_id", "vehicle"}}
	for id := 1; id <= n.Riders; id++ {
		riders.Rows = append(riders.Rows, tuple(itoa(id), quote(fmt.Sprintf("rider %d", id)),
			itoa(1+id%len(demoCities)), quote([]string{"bike", "scooter", "car"}[id%3])))
	}

	orders := demoTable{Name: "orders", Columns: []string{"order_id", "user_id", "merchant_id", "rider_id",
		"city_id", "status", "total_cents", "created_at"}}
	items := demoTable{Name: "order_items", Columns: []string{"order_id", "line_no", "item", "qty", "price_cents"}}
	placed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for id := 1; id <= n.Orders; id++ {
		user := skewed(rng, n.Users, 3)
		status := pickStatus(rng)
		rider := "NULL" // nobody has accepted a just-placed order
		if status != "placed" {
			rider = itoa(skewed(rng, n.Riders, 2))
		}
		total := deliveryFee
		lines := 1 + rng.IntN(4)
		for line := 1; line <= lines; line++ {
			m := demoMenu[rng.IntN(len(demoMenu))]
			qty, price := 1+rng.IntN(3), m.price+10*rng.IntN(30)
			total += qty * price
			items.Rows = append(items.Rows, tuple(itoa(id), itoa(line), quote(m.item), itoa(qty), itoa(price)))
		}
		at := placed.Add(time.Duration(id)*97*time.Second + time.Duration(rng.IntN(1000))*time.Millisecond)
		orders.Rows = append(orders.Rows, tuple(itoa(id), itoa(user), itoa(1+rng.IntN(n.Merchants)), rider,
			itoa(userCity[user]), quote(status), itoa(total), quote(at.Format("2006-01-02 15:04:05.000"))))
	}
	return []demoTable{cities, users, merchants, riders, orders, items}
}

// skewed returns an id in 1..n drawn so that low ids come up far more
// often: u^power of a uniform u crowds towards 0.
func skewed(rng *rand.Rand, n int, power float64) int {
	return 1 + int(float64(n)*math.Pow(rng.Float64(), power))
}

// pickStatus draws an order status by its share.
func pickStatus(rng *rand.Rand) string {
	r := rng.IntN(100)
	for _, s := range demoStatuses {
		if r < s.share {
			return s.name
		}
		r -= s.share
	}
	return demoStatuses[0].name
}

// inserts returns the multi-row INSERT IGNORE statements that load t,
// batch rows each, naming every column (so sharded tables get their key
// explicitly). IGNORE makes a second load a no-op.
func (t demoTable) inserts(batch int) []string {
	var out []string
	head := "INSERT IGNORE INTO " + t.Name + " (" + strings.Join(t.Columns, ", ") + ") VALUES "
	for start := 0; start < len(t.Rows); start += batch {
		end := min(start+batch, len(t.Rows))
		out = append(out, head+strings.Join(t.Rows[start:end], ", "))
	}
	return out
}

func tuple(values ...string) string { return "(" + strings.Join(values, ", ") + ")" }

func itoa(i int) string { return strconv.Itoa(i) }

// quote makes s a SQL string literal. The generated strings hold no
// backslashes; quotes are doubled all the same.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
