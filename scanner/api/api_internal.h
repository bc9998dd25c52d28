/* api_internal.h - what the files of scanner/api/ share and nothing else
 * sees: settings the public options objects keep beside the private
 * layouts the stages read. */
#ifndef STW_API_INTERNAL_H
#define STW_API_INTERNAL_H

#include "stowaway/stowaway.h"

/* The page size set by stw_scan_options_set_page_size (0: the default);
 * o may be NULL. */
int stw_api_scan_page_size(const stw_scan_options *o);

#endif
