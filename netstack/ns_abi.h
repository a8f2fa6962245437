/*
 * netstack/ns_abi.h - Linux ABI numbers used by the public API.
 *
 * Values are Linux's on every OS (a sandbox passes its guest's numbers
 * through).  On Linux, tests/unit/test_abi.c checks them against the host's
 * headers.
 */
#ifndef NS_ABI_H
#define NS_ABI_H

#include <stdint.h>

/* errno */
#define NS_EPERM 1
#define NS_ENOENT 2
#define NS_EINTR 4
#define NS_EIO 5
#define NS_EBADF 9
#define NS_EAGAIN 11
#define NS_EWOULDBLOCK NS_EAGAIN
#define NS_ENOMEM 12
#define NS_EACCES 13
#define NS_EFAULT 14
#define NS_ESRCH 3
#define NS_EBUSY 16
#define NS_EEXIST 17
#define NS_ENODEV 19
#define NS_EINVAL 22
#define NS_ENFILE 23
#define NS_EMFILE 24
#define NS_ENOSPC 28
#define NS_EPIPE 32
#define NS_ERANGE 34
#define NS_ENOSYS 38
#define NS_ENOPROTOOPT 92
#define NS_EPROTONOSUPPORT 93
#define NS_ESOCKTNOSUPPORT 94
#define NS_EOPNOTSUPP 95
#define NS_EPFNOSUPPORT 96
#define NS_EAFNOSUPPORT 97
#define NS_EADDRINUSE 98
#define NS_EADDRNOTAVAIL 99
#define NS_ENETDOWN 100
#define NS_ENETUNREACH 101
#define NS_ENETRESET 102
#define NS_ECONNABORTED 103
#define NS_ECONNRESET 104
#define NS_ENOBUFS 105
#define NS_EISCONN 106
#define NS_ENOTCONN 107
#define NS_ESHUTDOWN 108
#define NS_ETIMEDOUT 110
#define NS_ECONNREFUSED 111
#define NS_EHOSTDOWN 112
#define NS_EHOSTUNREACH 113
#define NS_EALREADY 114
#define NS_EINPROGRESS 115
#define NS_EMSGSIZE 90
#define NS_EDESTADDRREQ 89
#define NS_ENOTSOCK 88
#define NS_EPROTOTYPE 91
#define NS_EBADMSG 74
#define NS_EPROTO 71
#define NS_ENODATA 61
#define NS_ENOTTY 25
#define NS_ENONET 64
#define NS_EDOM 33

/* families, types */
#define NS_AF_UNSPEC 0
#define NS_AF_INET 2
#define NS_AF_INET6 10
#define NS_SOCK_STREAM 1
#define NS_SOCK_DGRAM 2
#define NS_SOCK_RAW 3
#define NS_SOCK_NONBLOCK 04000
#define NS_SOCK_CLOEXEC 02000000
#define NS_IPPROTO_IP 0
#define NS_IPPROTO_ICMP 1
#define NS_IPPROTO_TCP 6
#define NS_IPPROTO_UDP 17
#define NS_IPPROTO_IPV6 41
#define NS_IPPROTO_ICMPV6 58

/* send/recv flags */
#define NS_MSG_OOB 0x1
#define NS_MSG_PEEK 0x2
#define NS_MSG_DONTROUTE 0x4
#define NS_MSG_CTRUNC 0x8
#define NS_MSG_TRUNC 0x20
#define NS_MSG_DONTWAIT 0x40
#define NS_MSG_EOR 0x80
#define NS_MSG_WAITALL 0x100
#define NS_MSG_ERRQUEUE 0x2000
#define NS_MSG_NOSIGNAL 0x4000
#define NS_MSG_MORE 0x8000

/* shutdown */
#define NS_SHUT_RD 0
#define NS_SHUT_WR 1
#define NS_SHUT_RDWR 2

/* levels and SOL_SOCKET options */
#define NS_SOL_SOCKET 1
#define NS_SO_DEBUG 1
#define NS_SO_REUSEADDR 2
#define NS_SO_TYPE 3
#define NS_SO_ERROR 4
#define NS_SO_DONTROUTE 5
#define NS_SO_BROADCAST 6
#define NS_SO_SNDBUF 7
#define NS_SO_RCVBUF 8
#define NS_SO_KEEPALIVE 9
#define NS_SO_OOBINLINE 10
#define NS_SO_LINGER 13
#define NS_SO_REUSEPORT 15
#define NS_SO_BINDTODEVICE 25
#define NS_SO_RCVLOWAT 18
#define NS_SO_SNDLOWAT 19
#define NS_SO_RCVTIMEO 20
#define NS_SO_SNDTIMEO 21
#define NS_SO_ACCEPTCONN 30
#define NS_SO_SNDBUFFORCE 32
#define NS_SO_RCVBUFFORCE 33
#define NS_SO_PROTOCOL 38
#define NS_SO_DOMAIN 39

/* IPPROTO_IP options */
#define NS_IP_TOS 1
#define NS_IP_TTL 2
#define NS_IP_HDRINCL 3
#define NS_IP_PKTINFO 8
#define NS_IP_MTU_DISCOVER 10
#define NS_IP_RECVERR 11
#define NS_IP_RECVTTL 12
#define NS_IP_MTU 14
#define NS_IP_PMTUDISC_DONT 0
#define NS_IP_PMTUDISC_WANT 1
#define NS_IP_PMTUDISC_DO 2
#define NS_IP_PMTUDISC_PROBE 3

/* IPPROTO_IPV6 options */
#define NS_IPV6_UNICAST_HOPS 16
#define NS_IPV6_V6ONLY 26
#define NS_IPV6_RECVPKTINFO 49
#define NS_IPV6_PKTINFO 50
#define NS_IPV6_TCLASS 67

/* IPPROTO_TCP options */
#define NS_TCP_NODELAY 1
#define NS_TCP_MAXSEG 2
#define NS_TCP_CORK 3
#define NS_TCP_KEEPIDLE 4
#define NS_TCP_KEEPINTVL 5
#define NS_TCP_KEEPCNT 6
#define NS_TCP_SYNCNT 7
#define NS_TCP_LINGER2 8
#define NS_TCP_DEFER_ACCEPT 9
#define NS_TCP_WINDOW_CLAMP 10
#define NS_TCP_INFO 11
#define NS_TCP_QUICKACK 12
#define NS_TCP_CONGESTION 13
#define NS_TCP_USER_TIMEOUT 18
#define NS_TCP_NOTSENT_LOWAT 25
#define NS_TCP_INQ 36
#define NS_TCP_CM_INQ NS_TCP_INQ

/* error queue, zerocopy and timestamping (netstack/errqueue.c) */
#define NS_ENOMSG 42
#define NS_MSG_ZEROCOPY 0x4000000
#define NS_SO_TIMESTAMP 29              /* SO_TIMESTAMP_OLD; SCM_TIMESTAMP */
#define NS_SO_TIMESTAMPNS 35            /* SO_TIMESTAMPNS_OLD; SCM_TIMESTAMPNS */
#define NS_SO_TIMESTAMPING 37           /* SO_TIMESTAMPING_OLD; SCM_TIMESTAMPING */
#define NS_SCM_TIMESTAMPING_OPT_STATS 54
#define NS_SO_ZEROCOPY 60
#define NS_SO_TIMESTAMP_NEW 63
#define NS_SO_TIMESTAMPNS_NEW 64
#define NS_SO_TIMESTAMPING_NEW 65
#define NS_IPV6_RECVERR 25
#define NS_SO_EE_ORIGIN_NONE 0
#define NS_SO_EE_ORIGIN_LOCAL 1
#define NS_SO_EE_ORIGIN_ICMP 2
#define NS_SO_EE_ORIGIN_ICMP6 3
#define NS_SO_EE_ORIGIN_TIMESTAMPING 4
#define NS_SO_EE_ORIGIN_ZEROCOPY 5
#define NS_SO_EE_CODE_ZEROCOPY_COPIED 1
#define NS_SCM_TSTAMP_SND 0
#define NS_SCM_TSTAMP_SCHED 1
#define NS_SCM_TSTAMP_ACK 2
#define NS_SOF_TIMESTAMPING_TX_HARDWARE (1u << 0)
#define NS_SOF_TIMESTAMPING_TX_SOFTWARE (1u << 1)
#define NS_SOF_TIMESTAMPING_RX_HARDWARE (1u << 2)
#define NS_SOF_TIMESTAMPING_RX_SOFTWARE (1u << 3)
#define NS_SOF_TIMESTAMPING_SOFTWARE (1u << 4)
#define NS_SOF_TIMESTAMPING_SYS_HARDWARE (1u << 5)
#define NS_SOF_TIMESTAMPING_RAW_HARDWARE (1u << 6)
#define NS_SOF_TIMESTAMPING_OPT_ID (1u << 7)
#define NS_SOF_TIMESTAMPING_TX_SCHED (1u << 8)
#define NS_SOF_TIMESTAMPING_TX_ACK (1u << 9)
#define NS_SOF_TIMESTAMPING_OPT_CMSG (1u << 10)
#define NS_SOF_TIMESTAMPING_OPT_TSONLY (1u << 11)
#define NS_SOF_TIMESTAMPING_OPT_STATS (1u << 12)
#define NS_SOF_TIMESTAMPING_OPT_PKTINFO (1u << 13)
#define NS_SOF_TIMESTAMPING_OPT_TX_SWHW (1u << 14)
#define NS_SOF_TIMESTAMPING_BIND_PHC (1u << 15)
#define NS_SOF_TIMESTAMPING_OPT_ID_TCP (1u << 16)
#define NS_SOF_TIMESTAMPING_OPT_RX_FILTER (1u << 17)
#define NS_SOF_TIMESTAMPING_MASK ((1u << 18) - 1)
#define NS_SOF_TIMESTAMPING_TX_RECORD_MASK \
	(NS_SOF_TIMESTAMPING_TX_HARDWARE | NS_SOF_TIMESTAMPING_TX_SOFTWARE | \
	 NS_SOF_TIMESTAMPING_TX_SCHED | NS_SOF_TIMESTAMPING_TX_ACK)

/* Linux struct sock_extended_err (the IP_RECVERR / IPV6_RECVERR cmsg starts with it). */
struct ns_sock_extended_err {
	uint32_t ee_errno;
	uint8_t ee_origin, ee_type, ee_code, ee_pad;
	uint32_t ee_info, ee_data;
};

/* poll bits */
#define NS_POLLIN 0x001
#define NS_POLLPRI 0x002
#define NS_POLLOUT 0x004
#define NS_POLLERR 0x008
#define NS_POLLHUP 0x010
#define NS_POLLNVAL 0x020
#define NS_POLLRDNORM 0x040
#define NS_POLLWRNORM 0x100
#define NS_POLLRDHUP 0x2000

/* ioctl / fcntl */
#define NS_FIONREAD 0x541B
#define NS_SIOCINQ NS_FIONREAD
#define NS_SIOCOUTQ 0x5411
#define NS_SIOCATMARK 0x8905
#define NS_FIONBIO 0x5421
#define NS_F_GETFL 3
#define NS_F_SETFL 4
#define NS_O_NONBLOCK 04000

#endif
