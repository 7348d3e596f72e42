package dao

import (
	"context"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// schemaV1 turns a current store back into schema 1's shape: the label
// index as two b-trees (keyed by object, and by key/value as an index) and
// the event log's byte count kept by an insert trigger.
var schemaV1 = []string{
	`ALTER TABLE object_labels RENAME TO object_labels_v2`,
	`CREATE TABLE object_labels (gvr TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
		key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (gvr, namespace, name, key)) WITHOUT ROWID`,
	`CREATE INDEX object_labels_kv ON object_labels (gvr, key, value, namespace, name)`,
	`INSERT INTO object_labels SELECT gvr, namespace, name, key, value FROM object_labels_v2`,
	`DROP TABLE object_labels_v2`,
	`CREATE TRIGGER events_bytes_ins AFTER INSERT ON events BEGIN
		UPDATE meta SET value = value + ` + eventBytesExpr("NEW.") + ` WHERE key = 'event_bytes'; END`,
	`UPDATE meta SET value=1 WHERE key='schema'`,
}

// TestMigrateFromSchema1: a schema-1 store opens at the current schema with
// its label index whole (every selector answers as before), its byte count
// right, and no insert trigger counting twice.
func TestMigrateFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edgecore.db")
	s, err := Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	fillPods(t, s, 300)
	selectors := []string{"app=app-7", "app in (app-1,app-2),bucket", "app=app-3,!nope", "app!=app-4", "nope", "!app", "bucket,app notin (app-5)"}
	want := map[string]int{}
	for _, sel := range selectors {
		want[sel] = countSelected(t, s, sel)
	}
	for _, q := range schemaV1 {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(path, Options{CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v, triggers int
	s.db.QueryRow(`SELECT value FROM meta WHERE key='schema'`).Scan(&v)
	s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name IN ('events_bytes_ins', 'object_labels_kv', 'object_labels_v1')`).Scan(&triggers)
	if v != schemaVersion || triggers != 0 {
		t.Fatalf("schema %d, %d schema-1 objects left; want %d, 0", v, triggers, schemaVersion)
	}
	for _, sel := range selectors {
		if got := countSelected(t, s, sel); got != want[sel] {
			t.Errorf("%q selects %d after the migration, %d before", sel, got, want[sel])
		}
	}
	updatePods(t, s, 50, 1)
	if kept, actual := eventLogBytes(t, s); kept != actual {
		t.Fatalf("event bytes kept %d, actual %d", kept, actual)
	}
}

func countSelected(t *testing.T, s *Store, sel string) int {
	t.Helper()
	ls, err := labels.Parse(sel)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.List(context.Background(), podsGVR, ListOptions{Labels: ls})
	if err != nil {
		t.Fatalf("%q: %v", sel, err)
	}
	return len(res.Items)
}
