package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestUserStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := openUserStore(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ada, err := s.findOrCreate("dev", "s1", "ada@example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.findOrCreate("dev", "s1", "other@example.com", now.Add(time.Hour))
	other, _ := s.findOrCreate("google", "s1", "ada@example.com", now)
	want := User{ID: "user-1", Provider: "dev", Subject: "s1", Email: "ada@example.com", CreatedAt: now}
	if ada != want || again != want {
		t.Errorf("created %+v, then found %+v; want %+v both times", ada, again, want)
	}
	if other.ID != "user-2" {
		t.Errorf("same subject at another provider: %+v, want user-2", other)
	}

	var onDisk []User
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &onDisk); err != nil || len(onDisk) != 2 || onDisk[0] != want {
		t.Fatalf("users file %s: %v", data, err)
	}

	reopened, err := openUserStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := reopened.byUserID("user-1"); !ok || u != want {
		t.Errorf("after a restart user-1 is %+v %v, want %+v", u, ok, want)
	}
	if u, _ := reopened.findOrCreate("github", "s9", "", now); u.ID != "user-3" {
		t.Errorf("after a restart the next user is %q, want user-3", u.ID)
	}
	if _, ok := reopened.byUserID("user-9"); ok {
		t.Error("found a user that does not exist")
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openUserStore(path); err == nil {
		t.Error("a corrupt users file was accepted")
	}
}
