/* SPDX-License-Identifier: MIT */
/*
 * main.c - the shop's supervisor and chaos monkey: reads the options,
 * starts the three service processes, shapes the load over the run
 * (morning, lunch and evening peaks), switches the chaos on and off
 * (a payment database outage, a service that stops answering, an attack),
 * prints a progress line per second, ends the run (the checkout process
 * crashes on its own, the backoffice process is SIGKILLed), reaps every
 * child, and prints the totals the test compares with ttlog's files.
 *
 *   shop [--duration S] [--seed N] [--rate R] [--chaos 0|1|2] [--dir DIR]
 *        [--stream DIR | --no-stream]
 *
 * Exit status: 0, 1 when an invariant broke or a process ended in a way it
 * should not have, 2 for a usage or setup error, 130 when interrupted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shop.h"

struct shop_shared *shop;

const char *const svc_names[NENDPOINT] = {
#define SHOP__NAME(id, name, proc, workers) #name,
	SHOP_SERVICES(SHOP__NAME)
#undef SHOP__NAME
	"search-2"};
const int svc_proc[NSVC] = {
#define SHOP__PROC(id, name, proc, workers) proc,
	SHOP_SERVICES(SHOP__PROC)
#undef SHOP__PROC
};
const char *const proc_names[NPROC] = {"edge", "checkout", "backoffice"};

static volatile sig_atomic_t interrupted;
static pid_t children[NPROC];
static int child_status[NPROC];
static int child_done[NPROC];

static void on_signal(int sig)
{
	interrupted = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: shop [--duration S] [--seed N] [--rate R] [--chaos 0|1|2] [--dir DIR]\n"
		   "            [--stream DIR | --no-stream]\n"
		   "Runs a 12-service shop in three processes that log with ttlog, with\n"
		   "chaos; snapshots go to DIR (default ./shop-snapshots).\n"
		   "  --duration S  seconds of traffic (default 20)\n"
		   "  --seed N      random seed (default 1)\n"
		   "  --rate R      requests per second at base load (default 120)\n"
		   "  --chaos L     0 none, 1 normal (default), 2 heavy\n"
		   "  --stream DIR  stream INFO and above, and the debug detail around\n"
		   "                each error, to segments in DIR (default DIR/stream\n"
		   "                under --dir), one service name per process\n"
		   "  --no-stream   snapshots only\n");
}

/* Reaps child i if it ended; 1 when it has. */
static int reap(int i, int block)
{
	if (child_done[i] || children[i] <= 0)
		return 1;
	int st;
	pid_t r = waitpid(children[i], &st, block ? 0 : WNOHANG);
	if (r == children[i]) {
		child_done[i] = 1;
		child_status[i] = st;
		return 1;
	}
	return 0;
}

/* Waits up to ms for child i to end. */
static int reap_within(int i, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		if (reap(i, 0))
			return 1;
		sleep_ms(10);
	}
	return reap(i, 0);
}

static void kill_all(void)
{
	for (int i = 0; i < NPROC; i++)
		if (children[i] > 0 && !child_done[i])
			kill(children[i], SIGKILL);
	for (int i = 0; i < NPROC; i++)
		reap(i, 1);
}

static const char *status_text(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "%s", strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "status %d", st);
	return buf;
}

static double bump(double x, double at, double width)
{
	return exp(-(x - at) * (x - at) / (2 * width * width));
}

static uint64_t total(_Atomic uint64_t *a, int n)
{
	uint64_t t = 0;
	for (int i = 0; i < n; i++)
		t += atomic_load(&a[i]);
	return t;
}

int main(int argc, char **argv)
{
	struct shop_options opt = {20.0, 1, 120.0, 1, "shop-snapshots", NULL};
	static const struct option longs[] = {
		{"duration", required_argument, 0, 'd'}, {"seed", required_argument, 0, 's'},
		{"rate", required_argument, 0, 'r'},     {"chaos", required_argument, 0, 'c'},
		{"dir", required_argument, 0, 'D'},      {"stream", required_argument, 0, 'S'},
		{"no-stream", no_argument, 0, 'N'},      {"help", no_argument, 0, 'h'},
		{0, 0, 0, 0}};
	int c, no_stream = 0;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'd':
			opt.duration_s = strtod(optarg, &end);
			break;
		case 's':
			opt.seed = strtoull(optarg, &end, 10);
			break;
		case 'r':
			opt.rate = strtod(optarg, &end);
			break;
		case 'c':
			opt.chaos = (int)strtol(optarg, &end, 10);
			break;
		case 'D':
			opt.dir = optarg;
			break;
		case 'S':
			opt.stream_dir = optarg;
			no_stream = 0;
			break;
		case 'N':
			no_stream = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (end && *end) {
			fprintf(stderr, "shop: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc || opt.duration_s <= 0 || opt.rate <= 0 || opt.chaos < 0 || opt.chaos > 2) {
		usage(stderr);
		return 2;
	}
	char dir[PATH_MAX], shm_dir[PATH_MAX + 8];
	if (mkdir(opt.dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "shop: cannot make %s: %s\n", opt.dir, strerror(errno));
		return 2;
	}
	if (!realpath(opt.dir, dir)) {
		fprintf(stderr, "shop: %s: %s\n", opt.dir, strerror(errno));
		return 2;
	}
	opt.dir = dir;
	snprintf(shm_dir, sizeof shm_dir, "%s/shm", dir);
	mkdir(shm_dir, 0700);
	/* The stream directory: DIR/stream by default, an absolute path, since
	 * the processes inherit it. */
	char stream_default[PATH_MAX + 8], stream_dir[PATH_MAX];
	if (no_stream) {
		opt.stream_dir = NULL;
	} else {
		if (!opt.stream_dir) {
			snprintf(stream_default, sizeof stream_default, "%s/stream", dir);
			opt.stream_dir = stream_default;
		}
		if (mkdir(opt.stream_dir, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "shop: cannot make %s: %s\n", opt.stream_dir, strerror(errno));
			return 2;
		}
		if (!realpath(opt.stream_dir, stream_dir)) {
			fprintf(stderr, "shop: %s: %s\n", opt.stream_dir, strerror(errno));
			return 2;
		}
		opt.stream_dir = stream_dir;
	}

	shop = mmap(NULL, sizeof *shop, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shop == MAP_FAILED) {
		perror("shop: mmap");
		return 2;
	}
	shop->seed = opt.seed;
	shop->chaos = opt.chaos;
	shop->rate = opt.rate;
	atomic_store(&shop->load_milli, 1000);
	snprintf(shop->run_id, sizeof shop->run_id, "%d", (int)getpid());

	/* Crash snapshots are what the crash is for; no core files. */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("shop: %.0f s, seed %llu, rate %.0f/s, chaos %d, snapshots in %s\n", opt.duration_s,
	       (unsigned long long)opt.seed, opt.rate, opt.chaos, dir);
	if (opt.stream_dir)
		printf("shop: streaming INFO and above (debug promoted around errors) to %s\n",
		       opt.stream_dir);
	for (int p = 0; p < NPROC; p++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("shop: fork");
			kill_all();
			return 2;
		}
		if (pid == 0) {
			signal(SIGINT, SIG_IGN); /* the supervisor decides */
			signal(SIGTERM, SIG_DFL);
			shop_process_main((enum proc)p, &opt);
		}
		children[p] = pid;
		shop->pids[p] = pid;
	}
	printf("shop: edge pid %d (gateway, user, search x2), checkout pid %d (order, payment, "
	       "pricing, inventory), backoffice pid %d (the other six, shared memory)\n",
	       (int)children[0], (int)children[1], (int)children[2]);

	int bad = 0;
	uint64_t t0 = now_ns(), last_print = 0, last_req = 0;
	double day = opt.duration_s < 20 ? opt.duration_s : 20;
	double chaos_len = opt.chaos == 2 ? 1.5 : 1.0;
	for (;;) {
		double t = (double)(now_ns() - t0) / 1e9;
		if (t >= opt.duration_s || interrupted)
			break;
		for (int i = 0; i < NPROC; i++) {
			if (!child_done[i] && reap(i, 0)) {
				char b[64];
				fprintf(stderr, "shop: process %s ended early (%s)\n", proc_names[i],
					status_text(child_status[i], b, sizeof b));
				bad = 1;
			}
		}
		if (bad)
			break;
		int d = (int)(t / day);
		double f = fmod(t, day) / day;
		double load = 0.6 + 1.3 * bump(f, 0.18, 0.06) + 2.3 * bump(f, 0.5, 0.05) +
			      1.6 * bump(f, 0.82, 0.06);
		atomic_store(&shop->day, d);
		atomic_store(&shop->load_milli, (uint64_t)(load * 1000));
		double db_len = fmin(3.0, 0.15 * day) / day * chaos_len;
		int on = opt.chaos > 0;
		atomic_store(&shop->db_down, on && f >= 0.30 && f < 0.30 + db_len);
		atomic_store(&shop->reco_hang, on && f >= 0.55 && f < 0.55 + 0.1 * chaos_len);
		atomic_store(&shop->search2_down, on && f >= 0.60 && f < 0.60 + 0.1 * chaos_len);
		atomic_store(&shop->security_burst, on && f >= 0.68 && f < 0.68 + 0.12 * chaos_len);
		if (now_ns() - t0 >= (last_print + 1) * 1000000000ull) {
			last_print++;
			uint64_t req = atomic_load(&shop->gw_requests);
			char chaos[96] = "";
			if (atomic_load(&shop->db_down))
				strcat(chaos, " payment-db-down");
			if (atomic_load(&shop->reco_hang))
				strcat(chaos, " recommendation-silent");
			if (atomic_load(&shop->search2_down))
				strcat(chaos, " search-2-silent");
			if (atomic_load(&shop->security_burst))
				strcat(chaos, " attack");
			printf("[%3llus] load %.1fx  requests %6llu (%4llu/s)  errors %5llu  snapshots %2llu%s%s\n",
			       (unsigned long long)last_print, load, (unsigned long long)req,
			       (unsigned long long)(req - last_req),
			       (unsigned long long)atomic_load(&shop->gw_errors),
			       (unsigned long long)total(shop->snapshots, NPROC), chaos[0] ? "  chaos:" : "",
			       chaos);
			last_req = req;
		}
		sleep_ms(20);
	}
	atomic_store(&shop->db_down, 0);
	atomic_store(&shop->reco_hang, 0);
	atomic_store(&shop->search2_down, 0);
	atomic_store(&shop->security_burst, 0);
	if (interrupted || bad) {
		kill_all();
		fprintf(stderr, "shop: %s; every process stopped\n", interrupted ? "interrupted" : "failed");
		return interrupted ? 130 : 1;
	}

	/* The end: traffic stops, the edge writes its last snapshot and exits. */
	atomic_store(&shop->phase, PHASE_STOP_TRAFFIC);
	if (!reap_within(PROC_EDGE, 15000)) {
		fprintf(stderr, "shop: edge did not stop\n");
		kill_all();
		return 1;
	}
	/* End of day: backoffice goes quiet and the chaos monkey kills it;
	 * checkout reconciles the day's orders. */
	atomic_store(&shop->phase, PHASE_END_OF_DAY);
	for (int t = 0; t < 10000 && atomic_load(&shop->ready[PROC_BACK]) != 2; t += 10)
		sleep_ms(10);
	if (atomic_load(&shop->ready[PROC_BACK]) == 2 && !child_done[PROC_BACK]) {
		kill(children[PROC_BACK], SIGKILL);
		printf("shop: chaos monkey: SIGKILL to backoffice (pid %d, shared memory)\n",
		       (int)children[PROC_BACK]);
	}
	if (!reap_within(PROC_BACK, 5000) || !reap_within(PROC_CHECKOUT, 15000)) {
		fprintf(stderr, "shop: a process did not end\n");
		kill_all();
		return 1;
	}

	char b[64];
	for (int i = 0; i < NPROC; i++)
		printf("shop: %s (pid %d) ended: %s\n", proc_names[i], (int)children[i],
		       status_text(child_status[i], b, sizeof b));
	int st = child_status[PROC_EDGE];
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bad = 1;
	st = child_status[PROC_BACK];
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		bad = 1;
	st = child_status[PROC_CHECKOUT];
	/* The reconciliation bug needs an order whose payment never went
	 * through: certain with chaos (the database outage), rare without. */
	int crashed = WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
	if (!crashed && (opt.chaos > 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0))
		bad = 1;

	/* Totals, one per line, for people and for tests. */
	for (int s = 0; s < NSVC; s++)
		printf("total service=%s process=%s requests=%llu errors=%llu\n", svc_names[s],
		       proc_names[svc_proc[s]], (unsigned long long)atomic_load(&shop->requests[s]),
		       (unsigned long long)atomic_load(&shop->errors[s]));
	printf("total gateway requests=%llu errors=%llu done_logged=%llu sampled_site_calls=%llu\n",
	       (unsigned long long)atomic_load(&shop->gw_requests),
	       (unsigned long long)atomic_load(&shop->gw_errors),
	       (unsigned long long)atomic_load(&shop->gw_done_logged),
	       (unsigned long long)atomic_load(&shop->noisy_calls));
	printf("total snapshots=%llu failed=%llu invariant_broken=%llu\n",
	       (unsigned long long)total(shop->snapshots, NPROC),
	       (unsigned long long)atomic_load(&shop->snapshot_failures),
	       (unsigned long long)atomic_load(&shop->invariant_broken));
	printf("pids edge=%d checkout=%d backoffice=%d\n", (int)children[0], (int)children[1],
	       (int)children[2]);
	if (atomic_load(&shop->invariant_broken)) {
		fprintf(stderr, "shop: %llu invariant violations (see the snapshots)\n",
			(unsigned long long)atomic_load(&shop->invariant_broken));
		bad = 1;
	}
	printf("shop: recover the killed process with: ttlog recover --shm-dir %s --dir %s %d\n", shm_dir,
	       dir, (int)children[PROC_BACK]);
	return bad ? 1 : 0;
}
