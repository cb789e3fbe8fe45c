/* SPDX-License-Identifier: GPL-2.0 */
/* Tracepoints of shrinkable page ranges. */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM shrinkable_page_range

#if !defined(_SPR_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _SPR_TRACE_H

#include <linux/tracepoint.h>

#include "shrinkable_page_range.h"

/* A call on the pages [start, end) of a range, and what it returned. */
DECLARE_EVENT_CLASS(spr_span,
		    TP_PROTO(struct shrinkable_page_range *range, size_t start,
			     size_t end, int ret),
		    TP_ARGS(range, start, end, ret),
		    TP_STRUCT__entry(__field(const void *, range)
				     __field(pid_t, pid)
				     __field(size_t, start)
				     __field(size_t, end)
				     __field(int, ret)),
		    TP_fast_assign(__entry->range = range;
				   __entry->pid = range->pid;
				   __entry->start = start;
				   __entry->end = end;
				   __entry->ret = ret;),
		    TP_printk("range=%p pid=%d pages=[%zu, %zu) ret=%d",
			      __entry->range, __entry->pid, __entry->start,
			      __entry->end, __entry->ret));

DEFINE_EVENT(spr_span, spr_use_range,
	     TP_PROTO(struct shrinkable_page_range *range, size_t start,
		      size_t end, int ret),
	     TP_ARGS(range, start, end, ret));

DEFINE_EVENT(spr_span, spr_stop_using_range,
	     TP_PROTO(struct shrinkable_page_range *range, size_t start,
		      size_t end, int ret),
	     TP_ARGS(range, start, end, ret));

/* Something that happened to one page of a range. */
DECLARE_EVENT_CLASS(spr_page,
		    TP_PROTO(struct shrinkable_page_range *range, size_t index,
			     bool ok),
		    TP_ARGS(range, index, ok),
		    TP_STRUCT__entry(__field(const void *, range)
				     __field(pid_t, pid)
				     __field(size_t, index)
				     __field(bool, ok)),
		    TP_fast_assign(__entry->range = range;
				   __entry->pid = range->pid;
				   __entry->index = index;
				   __entry->ok = ok;),
		    TP_printk("range=%p pid=%d page=%zu ok=%d",
			      __entry->range, __entry->pid, __entry->index,
			      __entry->ok));

/* ok: the page and its metadata were allocated. */
DEFINE_EVENT(spr_page, spr_alloc_page,
	     TP_PROTO(struct shrinkable_page_range *range, size_t index,
		      bool ok),
	     TP_ARGS(range, index, ok));

/* ok: the page was zapped from the vma; otherwise nothing mapped it. */
DEFINE_EVENT(spr_page, spr_reclaim_page,
	     TP_PROTO(struct shrinkable_page_range *range, size_t index,
		      bool ok),
	     TP_ARGS(range, index, ok));

#endif /* _SPR_TRACE_H */

#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE spr_trace
#include <trace/define_trace.h>
