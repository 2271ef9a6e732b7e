module blinklab/fakerunner

go 1.22
