/*
 * netstack/stats.h - statistics, under Linux's SNMP MIB names (as nstat
 * prints them: group prefix + counter).  Every dropped packet is counted in
 * at least one of these.  Add new counters to the group they belong to.
 */
#ifndef NS_STATS_H
#define NS_STATS_H

#define NS_STATS_LIST(X) \
	/* link / Ethernet (no Linux MIB: named like /proc/net/dev) */ \
	X(LinkRxFrames) X(LinkTxFrames) X(LinkRxDrops) X(LinkTxDrops) X(LinkTxErrors) \
	X(EthInBadFrames) X(EthInOtherHost) X(EthInUnknownProto) X(EthOutNoBufs) \
	/* memory */ \
	X(PktAllocFails) \
	/* Ip (RFC 4293 / Linux /proc/net/snmp) */ \
	X(IpInReceives) X(IpInHdrErrors) X(IpInAddrErrors) X(IpForwDatagrams) \
	X(IpInUnknownProtos) X(IpInDiscards) X(IpInDelivers) X(IpOutRequests) \
	X(IpOutDiscards) X(IpOutNoRoutes) X(IpReasmTimeout) X(IpReasmReqds) \
	X(IpReasmOKs) X(IpReasmFails) X(IpFragOKs) X(IpFragFails) X(IpFragCreates) \
	X(IpExtInNoRoutes) X(IpExtInTruncatedPkts) X(IpExtInCsumErrors) \
	X(IpExtInBcastPkts) X(IpExtInMcastPkts) X(IpExtReasmOverlaps) \
	X(IpExtInOctets) X(IpExtOutOctets) X(IpExtInNoECTPkts) X(IpExtInECT1Pkts) \
	X(IpExtInECT0Pkts) X(IpExtInCEPkts) \
	/* Icmp */ \
	X(IcmpInMsgs) X(IcmpInErrors) X(IcmpInCsumErrors) X(IcmpInDestUnreachs) \
	X(IcmpInTimeExcds) X(IcmpInParmProbs) X(IcmpInEchos) X(IcmpInEchoReps) \
	X(IcmpOutMsgs) X(IcmpOutErrors) X(IcmpOutRateLimitGlobal) X(IcmpOutRateLimitHost) \
	X(IcmpOutDestUnreachs) X(IcmpOutTimeExcds) X(IcmpOutParmProbs) X(IcmpOutEchos) \
	X(IcmpOutEchoReps) X(IcmpInRedirects) X(IcmpInTimestamps) X(IcmpOutTimestampReps) \
	/* Arp (no MIB; named for what they count) */ \
	X(ArpInRequests) X(ArpInReplies) X(ArpInErrors) X(ArpOutRequests) X(ArpOutReplies) \
	X(ArpOutGratuitous) X(ArpQueueDrops) X(ArpResolveFailed) \
	/* Udp */ \
	X(UdpInDatagrams) X(UdpNoPorts) X(UdpInErrors) X(UdpOutDatagrams) \
	X(UdpRcvbufErrors) X(UdpSndbufErrors) X(UdpInCsumErrors) X(UdpIgnoredMulti) \
	/* Tcp */ \
	X(TcpActiveOpens) X(TcpPassiveOpens) X(TcpAttemptFails) X(TcpEstabResets) \
	X(TcpCurrEstab) X(TcpInSegs) X(TcpOutSegs) X(TcpRetransSegs) X(TcpInErrs) \
	X(TcpOutRsts) X(TcpInCsumErrors) \
	/* TcpExt */ \
	X(TcpExtSyncookiesSent) X(TcpExtSyncookiesRecv) X(TcpExtSyncookiesFailed) \
	X(TcpExtEmbryonicRsts) X(TcpExtPAWSActive) X(TcpExtPAWSEstab) X(TcpExtTW) \
	X(TcpExtTWRecycled) X(TcpExtTWKilled) X(TcpExtDelayedACKs) X(TcpExtDelayedACKLost) \
	X(TcpExtListenOverflows) X(TcpExtListenDrops) X(TcpExtTCPHPHits) \
	X(TcpExtTCPPureAcks) X(TcpExtTCPHPAcks) X(TcpExtTCPSackRecovery) \
	X(TcpExtTCPRenoRecovery) X(TcpExtTCPSACKReneging) X(TcpExtTCPSACKReorder) \
	X(TcpExtTCPRenoReorder) X(TcpExtTCPTSReorder) X(TcpExtTCPFullUndo) \
	X(TcpExtTCPPartialUndo) X(TcpExtTCPLossUndo) X(TcpExtTCPLostRetransmit) \
	X(TcpExtTCPRenoFailures) X(TcpExtTCPSackFailures) X(TcpExtTCPLossFailures) \
	X(TcpExtTCPFastRetrans) X(TcpExtTCPSlowStartRetrans) X(TcpExtTCPTimeouts) \
	X(TcpExtTCPLossProbes) X(TcpExtTCPLossProbeRecovery) X(TcpExtTCPRcvCollapsed) \
	X(TcpExtTCPDSACKOldSent) X(TcpExtTCPDSACKOfoSent) X(TcpExtTCPDSACKRecv) \
	X(TcpExtTCPDSACKOfoRecv) X(TcpExtTCPAbortOnData) X(TcpExtTCPAbortOnClose) \
	X(TcpExtTCPAbortOnMemory) X(TcpExtTCPAbortOnTimeout) X(TcpExtTCPAbortOnLinger) \
	X(TcpExtTCPAbortFailed) X(TcpExtTCPMemoryPressures) X(TcpExtTCPSACKDiscard) \
	X(TcpExtTCPDSACKIgnoredOld) X(TcpExtTCPDSACKIgnoredNoUndo) X(TcpExtTCPSpuriousRTOs) \
	X(TcpExtTCPSackShifted) X(TcpExtTCPSackMerged) X(TcpExtTCPBacklogDrop) \
	X(TcpExtTCPRcvQDrop) X(TcpExtTCPOFOQueue) X(TcpExtTCPOFODrop) X(TcpExtTCPOFOMerge) \
	X(TcpExtTCPChallengeACK) X(TcpExtTCPSYNChallenge) X(TcpExtTCPSpuriousRtxHostQueues) \
	X(TcpExtTCPAutoCorking) X(TcpExtTCPFromZeroWindowAdv) X(TcpExtTCPToZeroWindowAdv) \
	X(TcpExtTCPWantZeroWindowAdv) X(TcpExtTCPSynRetrans) X(TcpExtTCPOrigDataSent) \
	X(TcpExtTCPKeepAlive) X(TcpExtTCPDelivered) X(TcpExtTCPAckCompressed) \
	X(TcpExtTCPRcvCoalesce) X(TcpExtTCPWinProbe) X(TcpExtTCPMTUPFail) X(TcpExtTCPMTUPSuccess) \
	X(TcpExtPAWSOld) X(TcpExtOutOfWindowIcmps) X(TcpExtLockDroppedIcmps) \
	X(TcpExtTCPACKSkippedSynRecv) X(TcpExtTCPACKSkippedPAWS) X(TcpExtTCPACKSkippedSeq) \
	X(TcpExtTCPACKSkippedChallenge) X(TcpExtTCPReqQFullDrop) X(TcpExtTCPReqQFullDoCookies) \
	X(TcpExtTCPRetransFail) X(TcpExtTCPMinTTLDrop) X(TcpExtTCPHystartTrainDetect) \
	X(TcpExtTCPHystartDelayDetect) X(TcpExtTCPTimeWaitOverflow) \
	X(TcpExtTCPACKSkippedFinWait2) X(TcpExtTCPACKSkippedTimeWait) X(TcpExtPAWSTimewait) \
	X(TcpExtTCPDSACKUndo) \
	X(TcpExtTCPDeferAcceptDrop) \
	/* Ip6 */ \
	X(Ip6InReceives) X(Ip6InHdrErrors) X(Ip6InTooBigErrors) X(Ip6InNoRoutes) \
	X(Ip6InAddrErrors) X(Ip6InUnknownProtos) X(Ip6InTruncatedPkts) X(Ip6InDiscards) \
	X(Ip6InDelivers) X(Ip6OutRequests) X(Ip6OutDiscards) X(Ip6OutNoRoutes) \
	X(Ip6ReasmTimeout) X(Ip6ReasmReqds) X(Ip6ReasmOKs) X(Ip6ReasmFails) \
	X(Ip6FragOKs) X(Ip6FragFails) X(Ip6FragCreates) X(Ip6InMcastPkts) X(Ip6OutMcastPkts) \
	X(Ip6InOctets) X(Ip6OutOctets) \
	/* neighbour discovery (no MIB; named for what they count) */ \
	X(NdQueueDrops) X(NdResolveFailed) X(NdDadFailures) \
	/* Icmp6 */ \
	X(Icmp6InMsgs) X(Icmp6InErrors) X(Icmp6OutMsgs) X(Icmp6OutErrors) X(Icmp6InCsumErrors) \
	X(Icmp6InDestUnreachs) X(Icmp6InPktTooBigs) X(Icmp6InTimeExcds) X(Icmp6InParmProblems) \
	X(Icmp6InEchos) X(Icmp6InEchoReplies) X(Icmp6InRouterSolicits) X(Icmp6InRouterAdvertisements) \
	X(Icmp6InNeighborSolicits) X(Icmp6InNeighborAdvertisements) X(Icmp6InRedirects) \
	X(Icmp6InMLDv2Reports) X(Icmp6OutDestUnreachs) X(Icmp6OutPktTooBigs) X(Icmp6OutTimeExcds) \
	X(Icmp6OutParmProblems) X(Icmp6OutEchos) X(Icmp6OutEchoReplies) X(Icmp6OutRouterSolicits) \
	X(Icmp6OutNeighborSolicits) X(Icmp6OutNeighborAdvertisements) X(Icmp6OutMLDv2Reports) \
	X(Icmp6OutRateLimitHost) \
	X(Icmp6InGroupMembQueries) X(Icmp6InGroupMembResponses) X(Icmp6InGroupMembReductions) \
	/* Udp6 */ \
	X(Udp6InDatagrams) X(Udp6NoPorts) X(Udp6InErrors) X(Udp6OutDatagrams) \
	X(Udp6RcvbufErrors) X(Udp6SndbufErrors) X(Udp6InCsumErrors) X(Udp6IgnoredMulti)

enum ns_stat_id {
#define NS_STAT_ENUM(n) NS_STAT_##n,
	NS_STATS_LIST(NS_STAT_ENUM)
#undef NS_STAT_ENUM
	NS_STAT__COUNT
};

extern const char *const ns__stat_names[NS_STAT__COUNT];

#endif
