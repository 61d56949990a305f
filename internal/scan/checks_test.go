package scan_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
)

// TestChecksJSONSchema: a report with secrets and failed checks follows
// Trivy's report structure, and a scan without vuln needs no DB.
func TestChecksJSONSchema(t *testing.T) {
	token := "ghp_" + "ScanPkgMadeUpTokenForTests0000000000099"
	img := registrytest.Image(t,
		registrytest.Layer(t, registrytest.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")),
		registrytest.Layer(t, registrytest.File("app/.env", "GITHUB_TOKEN="+token+"\n"),
			registrytest.Entry{Name: "usr/bin/helper", Body: "\x7fELF\x00", Mode: 0o4755}),
	)
	input, _ := writeImage(t, img, "docker-archive")
	r, err := scan.Run(context.Background(), nil, scan.Options{
		Kind: scan.KindImage, Input: input, Now: now,
		Scanners: scan.Scanners{Secret: true, Misconfig: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.SecretCount() != 1 || r.MisconfigurationCount() == 0 {
		t.Fatalf("want a secret and failed checks, got %d and %d", r.SecretCount(), r.MisconfigurationCount())
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(token)) {
		t.Error("the JSON shows the token")
	}
	validateTrivySchema(t, buf.Bytes())
}
