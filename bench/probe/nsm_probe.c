// The benchmark's pinger: how long after a Request a client's first ping through its new interface is
// answered, for many clients (each in its own network namespace) at once, without starting a `ping`
// process per client (which costs more than what is measured on a busy machine).
//
// One process, one thread, one poll() loop. Commands on stdin, one per line; answers on stdout:
//   open <id> <netns path>                     -> "open <id> ok" | "open <id> err <reason>"
//   start <id> <ipv4> <interval_us> <timeout_ms> -> later "reply <id> <t_ns> <sent>" | "timeout <id> <sent>"
//   close <id>                                 -> (nothing)
// `open` makes a raw ICMP socket inside the namespace (setns there and back: a socket keeps the
// namespace it was made in), before the interface exists. `start` sends an echo request at once and
// then every interval until an echo reply from that address with our identifier arrives; <t_ns> is
// when it was read, on CLOCK_MONOTONIC, the clock of Node's process.hrtime. Sends that fail (no route
// yet) are counted and retried at the next interval.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROBES 4096

struct probe {
  int used, fd, active;
  struct in_addr dst;
  uint16_t ident, seq;
  int64_t interval_ns, deadline, next_send;
  unsigned sent;
};

static struct probe probes[MAX_PROBES];

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint16_t checksum(const void *data, size_t len) {
  const uint16_t *p = data;
  uint32_t sum = 0;
  for (; len > 1; len -= 2) sum += *p++;
  if (len) sum += *(const uint8_t *)p;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static int open_in(const char *path) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    int e = errno;
    if (self >= 0) close(self);
    if (ns >= 0) close(ns);
    errno = e;
    return -1;
  }
  close(ns);
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  int e = errno;
  if (setns(self, CLONE_NEWNET) < 0) {
    perror("nsm_probe: cannot return to the original namespace");
    exit(1);
  }
  close(self);
  errno = e;
  return fd;
}

static void send_echo(struct probe *p) {
  struct {
    struct icmphdr h;
    char pad[24];
  } pkt;
  memset(&pkt, 0, sizeof pkt);
  pkt.h.type = ICMP_ECHO;
  pkt.h.un.echo.id = htons(p->ident);
  pkt.h.un.echo.sequence = htons(++p->seq);
  pkt.h.checksum = checksum(&pkt, sizeof pkt);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = p->dst};
  sendto(p->fd, &pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
  p->sent++;
}

/** Reads what arrived on a probe's socket; 1 when its echo reply is among it. */
static int got_reply(struct probe *p) {
  char buf[2048];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(p->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) return 0;
    if (!p->active || from.sin_addr.s_addr != p->dst.s_addr) continue;
    const struct iphdr *ip = (const struct iphdr *)buf;
    size_t hl = (size_t)ip->ihl * 4;
    if ((size_t)n < hl + sizeof(struct icmphdr)) continue;
    const struct icmphdr *h = (const struct icmphdr *)(buf + hl);
    if (h->type == ICMP_ECHOREPLY && ntohs(h->un.echo.id) == p->ident) return 1;
  }
}

static void command(char *line) {
  char what[16], a[4096], b[64];
  int id = -1;
  long interval_us = 0, timeout_ms = 0;
  if (sscanf(line, "%15s %d", what, &id) < 2 || id < 0 || id >= MAX_PROBES) {
    printf("error bad command\n");
    return;
  }
  struct probe *p = &probes[id];
  if (!strcmp(what, "open") && sscanf(line, "%*s %*d %4095s", a) == 1) {
    if (p->used) close(p->fd);
    memset(p, 0, sizeof *p);
    p->fd = open_in(a);
    if (p->fd < 0) {
      printf("open %d err %s\n", id, strerror(errno));
      return;
    }
    p->used = 1;
    p->ident = (uint16_t)(getpid() * 31 + id);
    printf("open %d ok\n", id);
  } else if (!strcmp(what, "start") && p->used && sscanf(line, "%*s %*d %63s %ld %ld", b, &interval_us, &timeout_ms) == 3) {
    if (inet_pton(AF_INET, b, &p->dst) != 1 || interval_us < 100 || timeout_ms < 1) {
      printf("error %d bad start\n", id);
      return;
    }
    p->active = 1;
    p->sent = 0;
    p->interval_ns = interval_us * 1000;
    p->deadline = now_ns() + timeout_ms * 1000000LL;
    send_echo(p);
    p->next_send = now_ns() + p->interval_ns;
  } else if (!strcmp(what, "close") && p->used) {
    close(p->fd);
    memset(p, 0, sizeof *p);
  } else {
    printf("error %d bad command\n", id);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  static struct pollfd fds[MAX_PROBES + 1];
  static int idx[MAX_PROBES + 1];
  char in[8192];
  size_t have = 0;
  for (;;) {
    int n = 0;
    fds[n].fd = 0, fds[n].events = POLLIN, idx[n++] = -1;
    int64_t now = now_ns(), wake = now + 1000000000;
    for (int i = 0; i < MAX_PROBES; i++) {
      if (!probes[i].used) continue;
      fds[n].fd = probes[i].fd, fds[n].events = POLLIN, idx[n++] = i;
      if (probes[i].active) {
        if (probes[i].next_send < wake) wake = probes[i].next_send;
        if (probes[i].deadline < wake) wake = probes[i].deadline;
      }
    }
    int64_t left = wake > now ? wake - now : 0;
    struct timespec ts = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
    if (ppoll(fds, n, &ts, NULL) < 0 && errno != EINTR) return 1;
    for (int k = 1; k < n; k++) {
      struct probe *p = &probes[idx[k]];
      if ((fds[k].revents & POLLIN) && got_reply(p) && p->active) {
        printf("reply %d %lld %u\n", idx[k], (long long)now_ns(), p->sent);
        p->active = 0;
      }
    }
    now = now_ns();
    for (int i = 0; i < MAX_PROBES; i++) {
      struct probe *p = &probes[i];
      if (!p->active) continue;
      if (now >= p->deadline) {
        printf("timeout %d %u\n", i, p->sent);
        p->active = 0;
      } else if (now >= p->next_send) {
        send_echo(p);
        p->next_send = now + p->interval_ns;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t r = read(0, in + have, sizeof in - have - 1);
      if (r <= 0) return 0;
      have += (size_t)r;
      in[have] = 0;
      char *start = in, *nl;
      while ((nl = strchr(start, '\n'))) {
        *nl = 0;
        command(start);
        start = nl + 1;
      }
      have = strlen(start);
      memmove(in, start, have);
    }
  }
}
