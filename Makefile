# SPDX-License-Identifier: GPL-2.0
#
# In a kernel tree, this directory is drivers/android/shrinkable_page_range/
# and Kconfig decides what is built. Out of tree, build the module (and its
# KUnit tests when the kernel has KUnit) against a configured kernel with:
#
#	make KDIR=/path/to/kernel/build

ifneq ($(KERNELRELEASE),)

ifneq ($(KBUILD_EXTMOD),)
CONFIG_SHRINKABLE_PAGE_RANGE := m
CONFIG_SHRINKABLE_PAGE_RANGE_TEST_DRIVER := m
CONFIG_SHRINKABLE_PAGE_RANGE_BENCH := m
CONFIG_SHRINKABLE_PAGE_RANGE_KUNIT_TEST := $(if $(CONFIG_KUNIT),m)
endif

obj-$(CONFIG_SHRINKABLE_PAGE_RANGE) += shrinkable-page-range.o
shrinkable-page-range-y := shrinkable_page_range.o shrinker.o
# define_trace.h includes spr_trace.h by path.
CFLAGS_shrinkable_page_range.o := -I$(src)

obj-$(CONFIG_SHRINKABLE_PAGE_RANGE_TEST_DRIVER) += tests/spr_test_driver.o
obj-$(CONFIG_SHRINKABLE_PAGE_RANGE_BENCH) += tests/spr_bench.o
obj-$(CONFIG_SHRINKABLE_PAGE_RANGE_KUNIT_TEST) += tests/shrinkable_page_range_kunit.o

else

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

.PHONY: modules clean

endif
