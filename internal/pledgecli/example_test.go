package pledgecli_test

import (
	"fmt"

	"github.com/vow-sandbox/vow/internal/pledgecli"
)

func ExampleParse() {
	d := pledgecli.DefaultsFrom(4, true, 8<<30, 100)
	o, err := pledgecli.Parse("pledge", []string{"-np", "stdio", "-pinet", "-v", "rw:/tmp", "-M", "1g", "curl", "-s", "https://example.com"}, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("promises %q, unveils %v, nice %v, memory %d\n", o.Promises, o.Unveils, o.Nice, o.Memory)
	fmt.Printf("PROG %s %q\n", o.Prog, o.Args)
	// Output:
	// promises "stdio inet", unveils [{rw /tmp}], nice true, memory 1073741824
	// PROG curl ["-s" "https://example.com"]
}

func ExampleParse_errors() {
	d := pledgecli.DefaultsFrom(4, true, 8<<30, 100)
	for _, args := range [][]string{{"-x", "ls"}, {"-O", "12k", "ls"}, {"-n"}} {
		_, err := pledgecli.Parse("pledge", args, d)
		e := err.(*pledgecli.Error)
		fmt.Printf("%q: exit %d, %s (usage: %v)\n", args, e.Code, e, e.Usage)
	}
	// Output:
	// ["-x" "ls"]: exit 64, pledge: illegal option -- x (usage: true)
	// ["-O" "12k" "ls"]: exit 1, pledge: invalid integer: 12k (usage: false)
	// ["-n"]: exit 64, error: missing command (usage: true)
}

func ExampleEffectivePromises() {
	for _, k := range []pledgecli.Kind{pledgecli.KindStatic, pledgecli.KindDynamic} {
		p, _ := pledgecli.EffectivePromises("stdio", k)
		fmt.Printf("%v: %q\n", k, p)
	}
	// Output:
	// static: "stdio exec"
	// dynamic: "stdio exec rpath prot_exec"
}
