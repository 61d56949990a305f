package dockerfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// fuzzSeeds cover the syntax the parser and the rules deal with.
var fuzzSeeds = []string{
	"FROM python\nRUN useradd python\nRUN mkdir /data/www -p\nCOPY . /data/www\nRUN chown -R python /data\nRUN pip install flask -i https://mirrors.aliyun.com/pypi/simple/\nWORKDIR /data/www\nUSER python\nCMD python main.py\n",
	"# syntax=docker/dockerfile:1\nARG BASE=debian:12\nFROM ${BASE} AS build\nRUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends gcc=12 && rm -rf /var/lib/apt/lists/*\nFROM build\nCOPY --from=build --chown=1:1 [\"/a b\", \"/c/\"]\n",
	"FROM alpine:3.20\nRUN <<EOF\nset -e\napk add curl\nEOF\nCOPY <<-EOT /etc/x\n\tcontent\n\tEOT\n",
	"# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN Invoke-WebRequest -Uri x `\n    -OutFile y; Get-Item y | Remove-Item\n",
	"FROM scratch\nONBUILD RUN apt-get install x\nONBUILD ONBUILD RUN y\nHEALTHCHECK --interval=5s CMD curl -f localhost || exit 1\nHEALTHCHECK NONE\nEXPOSE 80/tcp 70000 1-2\n",
	"# hadolint global ignore=DL3006\n# hadolint stage ignore=DL3011\nFROM ubuntu\n# hadolint ignore=DL3003, DL3004 # why\nRUN cd / && sudo x\n# hadolint shell=pwsh\nRUN a | b\n",
	"LABEL a=b\nFROM debian:latest AS x\nLABEL \"com.docker.x\"=1 maintainer=\"me <a@b>\"\nENV A=1 B=$A\nENV OLD style value\nUSER root:root\nMAINTAINER me\nCOPY --from=x / /\n",
	"FROM node:22\nRUN npm install express && yarn install && pip install -r r.txt && gem install rails && go install x@latest && yum install -y a && dnf install b && zypper in c && apk add d\n",
	"FROM a\nRUN echo \"unterminated\nRUN $(echo `nested $((1+2))`) ${x:-y} <(z) @(g)\n",
	"FROM a\nRUN [\"sh\", \"-c\", \"echo hi\"]\nCMD [\"a\", 1]\n",
	"\ufeffFROM a\r\nRUN b \\\r\n  c\r\n",
	"FROB x\n",
	"",
	"\\\n\\\n",
}

func fuzzConfig() Config {
	cfg := DefaultConfig()
	// Every rule runs, including those off by default or needing config.
	cfg.Override.Info = []string{"DL1001", "DL3057"}
	cfg.TrustedRegistries = []string{"*.example.com", "docker.io", "pre*"}
	cfg.LabelSchema = map[string]LabelType{
		"a": LabelText, "u": LabelURL, "s": LabelSemver, "h": LabelHash,
		"d": LabelRFC3339, "l": LabelSPDX, "maintainer": LabelEmail,
	}
	cfg.StrictLabels = true
	return cfg
}

// FuzzLint parses arbitrary input and runs every rule over it: no panic,
// findings within the file, the same result twice.
func FuzzLint(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, p := range []string{seedExample, "format/testdata/app.Dockerfile", "format/testdata/broken.Dockerfile"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	if root := sharedtest.Root(); root != "" {
		files, _ := filepath.Glob(filepath.Join(root, "data", "dockerfiles", "*", "*"))
		for _, p := range files {
			if filepath.Base(p) == "SOURCES.md" {
				continue
			}
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	known := map[string]bool{ParseErrorRule: true}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	cfg := fuzzConfig()
	f.Fuzz(func(t *testing.T, src []byte) {
		l := NewLinter(cfg)
		res := l.Lint("Dockerfile", src)
		lines := bytes.Count(src, []byte("\n")) + 1
		if res.ParseError != nil {
			if len(res.Findings) != 1 || res.Findings[0].Rule != ParseErrorRule || res.ParseError.Line < 1 {
				t.Fatalf("parse error result %+v", res)
			}
		}
		for _, fd := range res.Findings {
			if fd.Line < 1 || fd.Line > lines+1 || !known[fd.Rule] || fd.Message == "" || fd.File != "Dockerfile" {
				t.Fatalf("bad finding %+v in a %d-line file", fd, lines)
			}
		}
		if !slices.IsSortedFunc(res.Findings, func(a, b Finding) int { return a.Line - b.Line }) {
			t.Fatal("findings not sorted by line")
		}
		again := NewLinter(cfg).Lint("Dockerfile", src)
		if diff := cmp.Diff(res, again); diff != "" {
			t.Fatalf("two runs differ:\n%s", diff)
		}
	})
}
