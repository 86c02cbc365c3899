// Command cyclegan trains CycleGAN natively and uses the weights it makes:
//
//	cyclegan train     -a DIR -b DIR -size 64 -ngf 32 -blocks 6 -iters N -seed S -out CKPT [-resume CKPT]
//	cyclegan translate -weights FILE -in FILE_OR_DIR -out FILE_OR_DIR [-net G_A|G_B]
//	cyclegan export    -ckpt CKPT -net G_A -out FILE
//	cyclegan eval      -weights CKPT -a DIR -b DIR [-size 64] [-classifier CLF]
//	cyclegan classifier -a DIR -b DIR -out CLF
//
// Checkpoints are the same safetensors files the browser app writes; an
// exported generator loads into PyTorch's reference ResnetGenerator.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: cyclegan <command> [flags]

commands:
  train      train CycleGAN on two folders of images
  translate  translate images with a trained generator
  export     write one generator of a checkpoint as a bare PyTorch-keyed file
  eval       score a translation against paired ground truth
  classifier train a style classifier for eval -classifier
  plot       draw the loss curves of a train -csv log as SVG

Run 'cyclegan <command> -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"train":      runTrain,
		"translate":  runTranslate,
		"export":     runExport,
		"eval":       runEval,
		"classifier": runClassifier,
		"plot":       runPlot,
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		if os.Args[1] == "-h" || os.Args[1] == "help" || os.Args[1] == "--help" {
			fmt.Print(usage)
			return
		}
		fmt.Fprintf(os.Stderr, "cyclegan: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "cyclegan %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
