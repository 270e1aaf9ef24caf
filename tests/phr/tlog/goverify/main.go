// Command goverify checks Mamori's log checkpoints and proofs with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog, code no one at Mamori wrote. The tests build it (GOPATH mode, against Debian's
// golang-golang-x-mod-dev) and run it on what the Python code produced.
//
//	goverify checkpoint  -vkeys KEYS -origin ORIGIN CHECKPOINT
//	goverify inclusion   -vkeys KEYS -origin ORIGIN -entry ENTRY PROOF
//	goverify consistency -vkeys KEYS -origin ORIGIN -old CHECKPOINT [-new CHECKPOINT] PROOF
//
// KEYS is a file of verifier keys, one a line (as /logs/<name>/verifier serves them). CHECKPOINT is a
// signed checkpoint note (C2SP tlog-checkpoint). PROOF is a C2SP tlog-proof@v1 text for inclusion, or for
// consistency "old N", the proof hashes, an empty line, then the newer signed checkpoint (the C2SP
// tlog-witness add-checkpoint body) or a "new N" line with -new giving that checkpoint. ENTRY holds the
// entry's bytes. On success it prints one line and exits 0; otherwise it names the failure and exits 1.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: goverify checkpoint|inclusion|consistency ..."))
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	vkeys := flags.String("vkeys", "", "file of verifier keys, one a line")
	origin := flags.String("origin", "", "the log's origin")
	entry := flags.String("entry", "", "file holding the entry's bytes (inclusion)")
	oldPath := flags.String("old", "", "the older signed checkpoint (consistency)")
	newPath := flags.String("new", "", "the newer signed checkpoint, when the proof does not carry it")
	if err := flags.Parse(os.Args[2:]); err != nil || flags.NArg() != 1 {
		fail(errors.New("give the flags, then one file"))
	}
	verifiers, err := readVerifiers(*vkeys)
	if err != nil {
		fail(err)
	}
	input := read(flags.Arg(0))
	switch os.Args[1] {
	case "checkpoint":
		tree, err := openCheckpoint(input, verifiers, *origin)
		if err != nil {
			fail(err)
		}
		fmt.Printf("ok checkpoint %d %s\n", tree.N, tree.Hash)
	case "inclusion":
		err = checkInclusion(input, read(*entry), verifiers, *origin)
	case "consistency":
		var newer string
		if *newPath != "" {
			newer = read(*newPath)
		}
		err = checkConsistency(input, read(*oldPath), newer, verifiers, *origin)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goverify:", err)
	os.Exit(1)
}

func read(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	return string(data)
}

func readVerifiers(path string) (note.Verifiers, error) {
	var list []note.Verifier
	for _, line := range strings.Split(read(path), "\n") {
		if line == "" {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %v", line, err)
		}
		list = append(list, v)
	}
	if len(list) == 0 {
		return nil, errors.New("no verifier key")
	}
	return note.VerifierList(list...), nil
}

// openCheckpoint opens a signed checkpoint with the known keys and reads its tree with tlog.ParseTree,
// which reads the go.sum database's tree notes: the same three lines with a fixed first line.
func openCheckpoint(signed string, verifiers note.Verifiers, origin string) (tlog.Tree, error) {
	n, err := note.Open([]byte(signed), verifiers)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint signature: %v", err)
	}
	first, rest, _ := strings.Cut(n.Text, "\n")
	if first != origin {
		return tlog.Tree{}, fmt.Errorf("checkpoint origin is %q, not %q", first, origin)
	}
	tree, err := tlog.ParseTree([]byte("go.sum database tree\n" + rest))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint: %v", err)
	}
	return tree, nil
}

// decimal reads a size or index written in ASCII decimal without leading zeros.
func decimal(text string) (int64, error) {
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != text {
		return 0, fmt.Errorf("malformed number %q", text)
	}
	return n, nil
}

func hashes(lines []string) ([]tlog.Hash, error) {
	var out []tlog.Hash
	for _, line := range lines {
		h, err := tlog.ParseHash(line)
		if err != nil {
			return nil, fmt.Errorf("proof hash %q: %v", line, err)
		}
		out = append(out, h)
	}
	return out, nil
}

func checkInclusion(text, entry string, verifiers note.Verifiers, origin string) error {
	head, checkpoint, found := strings.Cut(text, "\n\n")
	if !found {
		return errors.New("proof: no empty line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" {
		return fmt.Errorf("proof: first line is %q", lines[0])
	}
	lines = lines[1:]
	if len(lines) > 0 && strings.HasPrefix(lines[0], "extra ") {
		lines = lines[1:]
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "index ") {
		return errors.New("proof: no index line")
	}
	index, err := decimal(strings.TrimPrefix(lines[0], "index "))
	if err != nil {
		return fmt.Errorf("proof: %v", err)
	}
	proof, err := hashes(lines[1:])
	if err != nil {
		return err
	}
	tree, err := openCheckpoint(checkpoint, verifiers, origin)
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash([]byte(entry))); err != nil {
		return fmt.Errorf("inclusion of entry %d in tree %d: %v", index, tree.N, err)
	}
	fmt.Printf("ok inclusion %d %d\n", index, tree.N)
	return nil
}

func checkConsistency(text, older, newer string, verifiers note.Verifiers, origin string) error {
	head, tail, found := strings.Cut(text, "\n\n")
	if !found {
		return errors.New("proof: no empty line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if !strings.HasPrefix(lines[0], "old ") {
		return fmt.Errorf("proof: first line is %q", lines[0])
	}
	oldSize, err := decimal(strings.TrimPrefix(lines[0], "old "))
	if err != nil {
		return fmt.Errorf("proof: %v", err)
	}
	proof, err := hashes(lines[1:])
	if err != nil {
		return err
	}
	newSize := int64(-1) // taken from the checkpoint the proof carries
	if strings.HasPrefix(tail, "new ") {
		if newer == "" {
			return errors.New("the proof names a new size: give its checkpoint with -new")
		}
		if newSize, err = decimal(strings.TrimSuffix(strings.TrimPrefix(tail, "new "), "\n")); err != nil {
			return fmt.Errorf("proof: %v", err)
		}
		tail = newer
	}
	oldTree, err := openCheckpoint(older, verifiers, origin)
	if err != nil {
		return fmt.Errorf("old %v", err)
	}
	newTree, err := openCheckpoint(tail, verifiers, origin)
	if err != nil {
		return fmt.Errorf("new %v", err)
	}
	if newSize >= 0 && newTree.N != newSize {
		return fmt.Errorf("the proof is to size %d, the new checkpoint is of size %d", newSize, newTree.N)
	}
	if oldTree.N != oldSize {
		return fmt.Errorf("the proof is from size %d, the old checkpoint is of size %d", oldSize, oldTree.N)
	}
	switch {
	case oldTree.N > newTree.N:
		return fmt.Errorf("the old tree (%d) is larger than the new one (%d)", oldTree.N, newTree.N)
	case oldTree.N == 0 || oldTree.N == newTree.N:
		if len(proof) != 0 || (oldTree.N != 0 && oldTree.Hash != newTree.Hash) {
			return errors.New("consistency of equal trees: hashes differ or a proof was given")
		}
	default:
		if err := tlog.CheckTree(proof, newTree.N, newTree.Hash, oldTree.N, oldTree.Hash); err != nil {
			return fmt.Errorf("consistency from %d to %d: %v", oldTree.N, newTree.N, err)
		}
	}
	fmt.Printf("ok consistency %d %d\n", oldTree.N, newTree.N)
	return nil
}
