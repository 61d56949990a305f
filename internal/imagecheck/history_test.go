package imagecheck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHistory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Step
	}{
		{"/bin/sh -c #(nop)  ENV A=b", Step{Instruction: "ENV", Args: "A=b"}},
		{"/bin/sh -c #(nop) ADD file:4f6b0c3e9d in / ", Step{Instruction: "ADD", Args: "file:4f6b0c3e9d in /"}},
		{`/bin/sh -c #(nop)  CMD ["bash"]`, Step{Instruction: "CMD", Args: `["bash"]`}},
		{"/bin/sh -c apt-get update && apt-get install -y curl", Step{Instruction: "RUN", Args: "apt-get update && apt-get install -y curl"}},
		{"|2 A=1 B=x y /bin/sh -c make", Step{}},
		{"|2 A=1 B=2 /bin/sh -c make all", Step{Instruction: "RUN", Args: "make all", BuildArgs: []string{"A=1", "B=2"}}},
		{"RUN /bin/sh -c apt-get update # buildkit", Step{Instruction: "RUN", Args: "apt-get update"}},
		{"RUN |1 TOKEN=x /bin/sh -c ./build.sh # buildkit", Step{Instruction: "RUN", Args: "./build.sh", BuildArgs: []string{"TOKEN=x"}}},
		{`RUN ["/app/setup", "--fast"] # buildkit`, Step{Instruction: "RUN", Args: "/app/setup --fast", Exec: true}},
		{"COPY app /app # buildkit", Step{Instruction: "COPY", Args: "app /app"}},
		{"ADD https://example.com/a.tgz /opt/ # buildkit", Step{Instruction: "ADD", Args: "https://example.com/a.tgz /opt/"}},
		{"RUN apt-get update", Step{Instruction: "RUN", Args: "apt-get update"}}, // kaniko
		{"WORKDIR /app", Step{Instruction: "WORKDIR", Args: "/app"}},
		{"/bin/sh -c #(nop) WORKDIR /src", Step{Instruction: "WORKDIR", Args: "/src"}},
		{"/bin/bash -o pipefail -c curl x | sh", Step{Instruction: "RUN", Args: "curl x | sh"}},
		{"apko", Step{}},
		{"Imported from -", Step{}},
		{"", Step{}},
		{"/bin/sh -c #(nop) FROBNICATE x", Step{}},
	} {
		got := ParseHistory(tc.in)
		tc.want.Raw = tc.in
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseHistory(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestAddSources(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"file:abc in /app", []string{"file:abc"}},
		{"--chown=1:1 a.tgz b /dst/", []string{"a.tgz", "b"}},
		{`["a b.tar", "/dst"]`, []string{"a b.tar"}},
		{"only", nil},
	} {
		if diff := cmp.Diff(tc.want, addSources(tc.in)); diff != "" {
			t.Errorf("addSources(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
