module example.com/shop

go 1.22

toolchain go1.22.4

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/net v0.17.0 // indirect
	github.com/old/lib v1.0.0
	example.com/local v0.0.0
)

require github.com/go-playground/validator/v10 v10.14.0 // indirect

replace github.com/old/lib => github.com/new/lib v1.2.0

replace example.com/local => ../local
