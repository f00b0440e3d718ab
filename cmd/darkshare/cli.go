package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one command of the CLI, or one verb of keys and links: what
// its --help shows, and what its errors name. The standard flag package
// parses its flags; parse adds what that package lacks: flags anywhere
// among the arguments, a help with the usage line and the about text that
// spells the flags --name, and errors that end with a hint instead of a
// dump of every flag.
type command struct {
	name  string   // as typed after "darkshare": "keys revoke"
	args  []string // its positional arguments, all required: {"ID"}
	flags string   // the flags in the usage line; "" for "[flags]"
	about string   // what --help prints under the usage line
}

// flagSet returns an empty flag set for c that prints nothing: parse
// reports every error, and prints the help when asked.
func (c command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("darkshare "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, flags and arguments in any order (after "--",
// everything is an argument), and returns the arguments. On -h or --help
// it prints c's help to help and returns flag.ErrHelp, which run turns
// into success. A flag fs does not define, a bad flag value, and a
// missing or extra argument are errors that name c and its --help.
func (c command) parse(fs *flag.FlagSet, args []string, help io.Writer) ([]string, error) {
	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(fs, help)
		return nil, err
	}
	if err != nil {
		// The flag package says "-name" however it was typed.
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
			return nil, c.usageError("unknown flag --%s", name)
		}
		return nil, c.usageError("%v", err)
	}
	switch {
	case len(positional) < len(c.args):
		return nil, c.usageError("missing %s", strings.Join(c.args[len(positional):], " "))
	case len(positional) > len(c.args):
		return nil, c.usageError("unexpected argument %q", positional[len(c.args)])
	}
	return positional, nil
}

// usageError is an error about how c was called, with the usage line and
// where to read more.
func (c command) usageError(format string, a ...any) error {
	return fmt.Errorf("%s: %s\nusage: %s (more: darkshare %s --help)", c.name, fmt.Sprintf(format, a...), c.usage(), c.name)
}

func (c command) usage() string {
	flags := c.flags
	if flags == "" {
		flags = "[flags]"
	}
	return strings.Join(append([]string{"darkshare", c.name}, append(c.args, flags)...), " ")
}

// printHelp writes the usage line, c.about and every flag of fs with its
// default, as --name (the spelling the README uses; -name works too).
func (c command) printHelp(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.usage(), strings.TrimSpace(c.about))
	fmt.Fprintln(w, "\nFlags:")
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		fmt.Fprintf(w, "\n      %s", usage)
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "0s" {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isString := g.Get().(string); isString {
					def = fmt.Sprintf("%q", def)
				}
			}
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	})
}

// parseInterleaved parses the flags of args wherever they are, and
// returns the other arguments in order. The standard package stops at the
// first argument that is not a flag; this parses again after it.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// isHelp reports whether arg asks for help, as the flag package reads it.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}
