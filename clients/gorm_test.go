package clients

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Order and OrderItem are the delivery schema's tables as a GORM
// application declares them.
type Order struct {
	OrderID    int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID     int64
	MerchantID int64
	RiderID    *int64
	CityID     int
	Status     string
	TotalCents int
	CreatedAt  time.Time   `gorm:"type:datetime(3)"`
	Items      []OrderItem `gorm:"foreignKey:OrderID"`
}

type OrderItem struct {
	OrderID    int64 `gorm:"primaryKey;autoIncrement:false"`
	LineNo     int   `gorm:"primaryKey;autoIncrement:false"`
	Item       string
	Qty        int
	PriceCents int
}

func (o Order) String() string {
	rider := "NULL"
	if o.RiderID != nil {
		rider = fmt.Sprint(*o.RiderID)
	}
	return fmt.Sprintf("order %d user %d rider %s %s %d %s items %v", o.OrderID, o.UserID, rider, o.Status, o.TotalCents,
		o.CreatedAt.UTC().Format("2006-01-02 15:04:05.000"), o.Items)
}

// TestGORM runs the scenarios as a GORM application writes them, with
// GORM's MySQL driver on its defaults (each write in a transaction of its
// own, arguments as server-side prepared statements).
func TestGORM(t *testing.T) { compare(t, gormScenario(300_000), "parseTime=true") }

func gormScenario(base int64) func(dsn string, tr *transcript) error {
	return func(dsn string, tr *transcript) error {
		db, err := gorm.Open(mysql.Open(dsn), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return err
		}
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		defer sqlDB.Close()
		when := time.Date(2026, 12, 1, 12, 0, 0, 125_000_000, time.UTC)
		newOrder := func(k, user int64, status string, total int) Order {
			return Order{OrderID: k, UserID: user, MerchantID: 7, CityID: 1, Status: status, TotalCents: total, CreatedAt: when}
		}

		// Create, read, update and delete by order_id.
		for k := base; k < base+6; k++ {
			o := newOrder(k, base+k%3, "placed", 1000+int(k%100))
			if err := db.Create(&o).Error; err != nil {
				return fmt.Errorf("create: %w", err)
			}
		}
		var o Order
		if err := db.First(&o, base+1).Error; err != nil {
			return fmt.Errorf("first: %w", err)
		}
		tr.add("first: %s", o)
		rider := int64(42)
		if err := db.Model(&o).Updates(map[string]any{"status": "accepted", "rider_id": rider}).Error; err != nil {
			return fmt.Errorf("updates: %w", err)
		}
		o = Order{}
		if err := db.First(&o, base+1).Error; err != nil {
			return err
		}
		tr.add("after the update: %s", o)
		if err := db.Delete(&Order{}, base+5).Error; err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		var n int64
		if err := db.Model(&Order{}).Where("order_id = ?", base+5).Count(&n).Error; err != nil {
			return err
		}
		tr.add("deleted, count %d", n)
		err = db.First(&Order{}, base+5).Error
		tr.add("first of the deleted one: not found %v", errors.Is(err, gorm.ErrRecordNotFound))

		// By user_id: the global index.
		var mine []Order
		if err := db.Where("user_id = ?", base+1).Order("order_id").Find(&mine).Error; err != nil {
			return err
		}
		tr.add("by user: %v", mine)

		// A transaction of several statements by key: an order with its
		// items (GORM writes the association in the same transaction).
		k := base + 10
		err = db.Transaction(func(tx *gorm.DB) error {
			o := newOrder(k, base+9, "placed", 0)
			o.Items = []OrderItem{{LineNo: 1, Item: "noodles", Qty: 2, PriceCents: 850}, {LineNo: 2, Item: "tea", Qty: 1, PriceCents: 300}}
			if err := tx.Create(&o).Error; err != nil {
				return fmt.Errorf("create with items: %w", err)
			}
			var total int
			if err := tx.Model(&OrderItem{}).Select("SUM(qty * price_cents)").Where("order_id = ?", k).Scan(&total).Error; err != nil {
				return err
			}
			return tx.Model(&Order{OrderID: k}).Update("total_cents", total).Error
		})
		if err != nil {
			return fmt.Errorf("transaction: %w", err)
		}
		o = Order{}
		if err := db.Preload("Items").First(&o, k).Error; err != nil {
			return err
		}
		tr.add("with its items: %s", o)

		// A multi-row insert across shards, and an aggregate across them.
		var batch []Order
		for k := base + 20; k < base+30; k++ {
			batch = append(batch, newOrder(k, base+k%4, "delivered", 500+int(k%7)))
		}
		// GORM wraps the batch in a transaction of its own: across shards,
		// refused under multi_shard_transactions: reject; the application
		// then writes it without one.
		if err := tr.refused("CreateInBatches (one INSERT of 10 orders in GORM's transaction)", db.CreateInBatches(batch, 10).Error); err != nil {
			return err
		}
		if err := db.Session(&gorm.Session{SkipDefaultTransaction: true}).Clauses(clause.Insert{Modifier: "IGNORE"}).CreateInBatches(batch, 10).Error; err != nil {
			return fmt.Errorf("create in batches without a transaction: %w", err)
		}
		var groups []struct {
			Status string
			N      int64
			Total  int64
		}
		if err := db.Model(&Order{}).Select("status, COUNT(*) AS n, SUM(total_cents) AS total").
			Where("order_id BETWEEN ? AND ?", base, base+999).Group("status").Order("status").Scan(&groups).Error; err != nil {
			return err
		}
		tr.add("by status: %+v", groups)

		// An error, then the pool used again.
		err = db.Exec("UPDATE orders SET no_such_column = 1 WHERE order_id = ?", base).Error
		var me *gomysql.MySQLError
		if !errors.As(err, &me) {
			return fmt.Errorf("no MySQL error for an unknown column: %v", err)
		}
		tr.add("unknown column → error %d", me.Number)
		o = Order{}
		if err := db.First(&o, base).Error; err != nil {
			return err
		}
		tr.add("after the error: %s", o)

		// The pool under concurrent workers, each on its own orders.
		sqlDB.SetMaxOpenConns(4)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 5 {
					k := base + 100 + int64(w*10+i)
					o := newOrder(k, base+int64(w), "placed", i)
					if err := db.Create(&o).Error; err != nil {
						errs <- err
						return
					}
					if err := db.Model(&Order{OrderID: k}).Update("total_cents", gorm.Expr("total_cents + 1")).Error; err != nil {
						errs <- err
						return
					}
					var got Order
					if err := db.First(&got, k).Error; err != nil || got.TotalCents != i+1 {
						errs <- fmt.Errorf("order %d: %d, %v", k, got.TotalCents, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			return err
		}
		var sum struct{ N, Total int64 }
		if err := db.Model(&Order{}).Select("COUNT(*) AS n, SUM(total_cents) AS total").
			Where("order_id BETWEEN ? AND ?", base+100, base+199).Scan(&sum).Error; err != nil {
			return err
		}
		tr.add("the workers' orders: %+v", sum)
		return nil
	}
}
