// Command floor is the benchmark's floor (bench/run): a bare net/http
// handler doing the least work a login start can do — seal 80 bytes with
// AES-256-GCM and answer a JSON object with a URL of the size of
// /oauth2/url's — so the service's req/s can be given as a share of it.
//
//	floor -addr 127.0.0.1:9400
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	var key [32]byte
	_, _ = rand.Read(key[:])
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	// About the authorization URL edgeauth answers: endpoint, client_id,
	// redirect_uri, scope, PKCE challenge, nonce; the state is appended.
	prefix := `{"url":"http://127.0.0.1:9100/op/authorize?client_id=bench&code_challenge=` + strings.Repeat("c", 43) +
		`&code_challenge_method=S256&nonce=` + strings.Repeat("n", 43) +
		`&redirect_uri=http%3A%2F%2F127.0.0.1%3A9200%2Fcallback&response_type=code&scope=openid+email+profile&state=`
	http.HandleFunc("GET /oauth2/url", func(w http.ResponseWriter, r *http.Request) {
		var plain [80]byte
		var iv [12]byte
		_, _ = rand.Read(plain[:])
		_, _ = rand.Read(iv[:])
		sealed := gcm.Seal(nil, iv[:], plain[:], nil)
		state := base64.RawURLEncoding.EncodeToString(append(iv[:], sealed...))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(prefix + state + `","state":"` + state + `","expires_in":600}`))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		return fmt.Errorf("refusing a non-loopback address")
	}
	fmt.Println("listening", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(ln)
}
