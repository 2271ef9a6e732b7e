module blinklab/pause

go 1.22
