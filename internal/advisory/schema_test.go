package advisory

import (
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// writeSchema writes a DB file whose meta bucket claims schema n.
func writeSchema(t *testing.T, path string, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte(strconv.Itoa(n)))
	})
	if err != nil {
		t.Fatal(err)
	}
}
