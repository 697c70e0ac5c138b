package httpfetch

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(`{"a":1}`))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		case "/ftp":
			http.Redirect(w, r, "ftp://example.com/x", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if b, err := Get(ctx, srv.Client(), srv.URL+"/ok", 1024); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("ok: %q %v", b, err)
	}
	var se *StatusError
	if _, err := Get(ctx, srv.Client(), srv.URL+"/missing", 1024); !errors.As(err, &se) || se.Code != 404 {
		t.Fatalf("404: %v", err)
	}
	if _, err := Get(ctx, srv.Client(), srv.URL+"/big", 1024); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("cap: %v", err)
	}
	if _, err := Get(ctx, srv.Client(), srv.URL+"/ftp", 1024); !errors.Is(err, ErrScheme) {
		t.Fatalf("redirect scheme: %v", err)
	}
	if _, err := Get(ctx, nil, "file:///etc/passwd", 1024); !errors.Is(err, ErrScheme) {
		t.Fatalf("file scheme: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Get(cctx, srv.Client(), srv.URL+"/ok", 1024); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
