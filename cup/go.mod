module cupcross.dev/cup

go 1.22
