/* Temporary: replaced by netstack/socket.c. */
#include "sock.h"
int ns__socktab_init(struct ns_stack *stk) { (void)stk; return 0; }
void ns__socktab_fini(struct ns_stack *stk) { (void)stk; }
