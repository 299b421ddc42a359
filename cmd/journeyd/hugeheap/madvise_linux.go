package hugeheap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// markHuge marks the whole huge pages within b MADV_HUGEPAGE and returns their bytes.
func markHuge(b []byte, page int64) (int64, error) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg := (p + uintptr(page) - 1) &^ (uintptr(page) - 1)
	end := (p + uintptr(len(b))) &^ (uintptr(page) - 1)
	if end <= beg {
		return 0, nil
	}
	if err := unix.Madvise(b[beg-p:end-p], unix.MADV_HUGEPAGE); err != nil {
		return 0, err
	}
	return int64(end - beg), nil
}
