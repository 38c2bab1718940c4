package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// User is a row of the user table the webhook fills: what GET /api/me
// returns for the token's sub.
type User struct {
	ID        string    `json:"id"`
	Provider  string    `json:"provider"`
	Subject   string    `json:"subject"`
	Email     string    `json:"email,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// userStore stands in for your user table: in memory, and in a JSON file
// (an array of User) when it has a path, so that it survives a restart and
// a test can read it.
type userStore struct {
	path string

	mu    sync.Mutex
	users []User
	byKey map[identity]int // provider+subject → index in users
	byID  map[string]int   // user id → index in users
}

// identity keys a user: the subject is stable per provider, an email address is not (it can
// change, or be reused).
type identity struct{ provider, subject string }

// openUserStore loads the users of path; an empty path or a missing file
// starts with none.
func openUserStore(path string) (*userStore, error) {
	s := &userStore{path: path, byKey: map[identity]int{}, byID: map[string]int{}}
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	var users []User
	if err := json.Unmarshal(data, &users); err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	for _, u := range users {
		s.add(u)
	}
	return s, nil
}

func (s *userStore) add(u User) {
	s.users = append(s.users, u)
	s.byKey[identity{u.Provider, u.Subject}] = len(s.users) - 1
	s.byID[u.ID] = len(s.users) - 1
}

// findOrCreate returns the user of provider+subject, creating it with email
// when there is none. It is idempotent, as edgeauth's retries (same
// webhook-id) need: a second call finds the same user.
func (s *userStore) findOrCreate(provider, subject, email string, now time.Time) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byKey[identity{provider, subject}]; ok {
		return s.users[i], nil
	}
	u := User{ID: fmt.Sprintf("user-%d", len(s.users)+1), Provider: provider, Subject: subject, Email: email, CreatedAt: now.UTC()}
	if err := s.save(append(s.users[:len(s.users):len(s.users)], u)); err != nil {
		return User{}, err
	}
	s.add(u)
	return u, nil
}

// byUserID returns the user whose id is the API token's sub.
func (s *userStore) byUserID(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return User{}, false
	}
	return s.users[i], true
}

// save writes users to the file through a rename, so a reader never sees
// half a file.
func (s *userStore) save(users []User) error {
	if s.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(users, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".users-*.json")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}
