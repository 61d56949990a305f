package inventory

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func TestParseJar(t *testing.T) {
	t.Parallel()
	inner := registrytest.Jar(t, "", []string{"org.slf4j:slf4j-api:1.7.36"}, nil)
	for _, tc := range []struct {
		name string
		jar  []byte
		path string
		want []string
	}{
		{"pom.properties", registrytest.Jar(t, "", []string{"org.apache.logging.log4j:log4j-core:2.14.1"}, nil), "app/log4j-core-2.14.1.jar",
			[]string{"org.apache.logging.log4j:log4j-core@2.14.1"}},
		{"shaded jar lists several", registrytest.Jar(t, "", []string{"com.example:fat:1.0", "com.google.guava:guava:31.1-jre"}, nil), "fat.jar",
			[]string{"com.example:fat@1.0", "com.google.guava:guava@31.1-jre"}},
		{"manifest only", registrytest.Jar(t, "Manifest-Version: 1.0\nImplementation-Title: tool\nImplementation-Version: 3.2\nImplementation-Vendor-Id: org.example\n", nil, nil), "tool.jar",
			[]string{"org.example:tool@3.2"}},
		{"file name only", registrytest.Jar(t, "", nil, nil), "lib/commons-io-2.11.0.jar",
			[]string{"commons-io@2.11.0"}},
		{"spring boot nested", registrytest.Jar(t, "", []string{"com.example:boot:0.1"}, map[string][]byte{"BOOT-INF/lib/slf4j-api-1.7.36.jar": inner}), "boot.jar",
			[]string{"com.example:boot@0.1", "org.slf4j:slf4j-api@1.7.36"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs, err := parseJar(bytes.NewReader(tc.jar), int64(len(tc.jar)), tc.path, 0, &jarBudget{maxJarInflate})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.Name+"@"+p.Version)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// overlappingZip builds a zip whose directory lists n entries that all
// point at the same deflated data (size bytes of zeros): little to store,
// n × size to decompress.
func overlappingZip(t *testing.T, n int, size int) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(make([]byte, size))
	fw.Close()
	crc := crc32.ChecksumIEEE(make([]byte, size))
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	name := []byte("x.jar")
	le(uint32(0x04034b50)) // local file header
	le(uint16(20))
	le(uint16(0))
	le(uint16(8))
	le(uint32(0))
	le(crc)
	le(uint32(comp.Len()))
	le(uint32(size))
	le(uint16(len(name)))
	le(uint16(0))
	b.Write(name)
	b.Write(comp.Bytes())
	cdStart := b.Len()
	for i := 0; i < n; i++ {
		le(uint32(0x02014b50)) // central directory entry, all at offset 0
		le(uint16(20))
		le(uint16(20))
		le(uint16(0))
		le(uint16(8))
		le(uint32(0))
		le(crc)
		le(uint32(comp.Len()))
		le(uint32(size))
		le(uint16(len(name)))
		le(uint16(0))
		le(uint16(0))
		le(uint16(0))
		le(uint16(0))
		le(uint32(0))
		le(uint32(0))
		b.Write(name)
	}
	cdLen := b.Len() - cdStart
	le(uint32(0x06054b50))
	le(uint16(0))
	le(uint16(0))
	le(uint16(n))
	le(uint16(n))
	le(uint32(cdLen))
	le(uint32(cdStart))
	le(uint16(0))
	return b.Bytes()
}

func TestParseJarOverlappingZipBomb(t *testing.T) {
	t.Parallel()
	// 200 entries × 32 MiB = 6.4 GiB to inflate from a 40 KiB file.
	bomb := overlappingZip(t, 200, 32<<20)
	_, err := parseJar(bytes.NewReader(bomb), int64(len(bomb)), "bomb.jar", 0, &jarBudget{maxJarInflate})
	if err == nil || !strings.Contains(err.Error(), "share their data") {
		t.Fatalf("err = %v, want overlapping entries refused", err)
	}
}

// TestParseJarNestedBudget nests archives whose stored jars each inflate a
// lot: the total, not each entry, is bounded.
func TestParseJarNestedBudget(t *testing.T) {
	t.Parallel()
	// A jar of one 40 MiB entry of zeros (compressed to about 40 KiB),
	// stored eight times in a jar, stored four times in the outer jar:
	// 32 × 40 MiB = 1.25 GiB to inflate.
	big := registrytest.Jar(t, "", nil, map[string][]byte{"zeros.jar": make([]byte, 40<<20)})
	mid := map[string][]byte{}
	for i := range 8 {
		mid[string(rune('a'+i))+".jar"] = big
	}
	midJar := registrytest.Jar(t, "", nil, mid)
	outer := map[string][]byte{}
	for i := range 4 {
		outer[string(rune('a'+i))+".jar"] = midJar
	}
	jar := registrytest.Jar(t, "", nil, outer)
	_, err := parseJar(bytes.NewReader(jar), int64(len(jar)), "outer.jar", 0, &jarBudget{maxJarInflate})
	if !errors.Is(err, errJarBudget) {
		t.Fatalf("err = %v, want the decompression budget to stop it", err)
	}
}
