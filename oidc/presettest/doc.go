// Package presettest runs fakes of well-known providers for tests: each
// reproduces its provider's documented answers — response shapes, content
// types, error bodies, numeric ids, string booleans — so that a preset's
// quirks are exercised the way the real provider would exercise them.
// One file per provider; every fake is an httptest server started by the
// test and closed with it.
package presettest
