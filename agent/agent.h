/* agent — `bosun agent`: the node side of the cluster. With --hollow N it
 * simulates N nodes in one process (like kubemark or KWOK): each registers
 * a Node, renews its coordination.k8s.io Lease, and moves the pods bound to
 * it to Running (and, for hollow-run pods, to Succeeded) through the public
 * API only. */
#ifndef BOSUN_AGENT_H
#define BOSUN_AGENT_H

/* argv[0] is "agent"; returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
