/*
 * gongsim: runs a gongwatch firmware image (.elf) on a simulated ATmega328P
 * at 16 MHz, with its serial port on a pseudo terminal and its output pins
 * watched.
 *
 * stdout, one line each, flushed:
 *   pty /dev/pts/N          first line: open this as the board's serial port
 *   reset @T                the port was opened, so the board was reset
 *   servo W @T              the servo pin's pulse width changed to W us
 *   servo off @T            no servo pulse for 100 ms
 *   pulse-period P @T       the time between servo pulses changed to P us
 *   ws2812 RRGGBB ... @T    a WS2812 frame, latched; one colour a LED, in
 *                           chain order, decoded from the GRB wire order
 *   timing-error ws2812 ... @T   a WS2812 bit outside the datasheet timing
 * T is simulated time in seconds since power-on.
 *
 * Like an Arduino, the board resets when the port is opened, and a short
 * boot delay (a bootloader's wait) passes before the sketch starts; bytes
 * sent during it are lost. Simulated time is kept in step with real time,
 * so millis() and the 9600 baud serial line run at their real speed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_ioport.h>
#include <avr_timer.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_cycle_timers.h>
#include <sim_elf.h>
#include <sim_io.h>
#include <sim_irq.h>

#define MAX_LEDS 256
#define HOST_QUEUE 4096

/* WS2812 timing limits, in nanoseconds, wide enough for WS2812 and WS2812B. */
#define WS_T0H_MIN 200
#define WS_T0H_MAX 500
#define WS_T1H_MIN 580
#define WS_T1H_MAX 1000
#define WS_MAX_GAP 5000    /* low time between two bits of one frame */
#define WS_LATCH_US 50     /* low time that ends a frame */
#define SERVO_OFF_US 100000 /* no pulse for this long: the servo is unpowered */

struct options {
	const char *elf;
	const char *mcu;
	uint32_t frequency;
	char servo_port;
	int servo_bit;
	char led_port;
	int led_bit;
	double speed;       /* simulated seconds per real second; 0 = flat out */
	double boot_delay;  /* real seconds between a port open and the sketch */
	int reset_on_open;
	int exit_with_stdin;
};

struct servo_watch {
	int level;
	avr_cycle_count_t rise;
	uint32_t width_us;
	uint32_t period_us;
};

struct ws2812_watch {
	int level;
	avr_cycle_count_t rise;
	avr_cycle_count_t fall;
	uint8_t bytes[MAX_LEDS * 3];
	uint32_t bits;
	int bad_timing;
};

struct host_queue {
	uint8_t data[HOST_QUEUE];
	size_t head, tail;
};

static avr_t *avr;
static struct options opt = {
	.mcu = "atmega328p",
	.frequency = 16000000,
	.servo_port = 'B', .servo_bit = 1,  /* Arduino pin 9 (OC1A) */
	.led_port = 'D', .led_bit = 6,      /* Arduino pin 6 */
	.speed = 1.0,
	.boot_delay = 0.25,
	.reset_on_open = 1,
	.exit_with_stdin = 0,
};
static FILE *events;
static int master = -1;
static int port_watch = -1;  /* inotify on the pty's slave, or -1 */
static int openers;          /* how many times the slave is open now */
static int connected;
static int uart_xoff;
static struct host_queue to_board;
static struct servo_watch servo;
static struct ws2812_watch leds;
static avr_irq_t *uart_input;
static volatile sig_atomic_t stopping;

static double sim_seconds(void)
{
	return (double)(avr->cycle) / opt.frequency;
}

static void emit(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vfprintf(events, format, ap);
	va_end(ap);
	fprintf(events, " @%.6f\n", sim_seconds());
	fflush(events);
}

static uint32_t cycles_to_ns(avr_cycle_count_t cycles)
{
	return (uint32_t)(cycles * 1000000000ULL / opt.frequency);
}

static uint32_t cycles_to_us(avr_cycle_count_t cycles)
{
	return (uint32_t)((cycles * 1000000ULL + opt.frequency / 2) / opt.frequency);
}

/* ---- servo ------------------------------------------------------------- */

static avr_cycle_count_t servo_silent(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)when; (void)param;
	if (servo.width_us != 0)
		emit("servo off");
	servo.width_us = 0;
	servo.period_us = 0;
	servo.rise = 0;
	return 0;
}

static void servo_pin(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	int level = value & 1;
	if (level == servo.level)
		return;
	servo.level = level;
	avr_cycle_count_t now = avr->cycle;
	if (level) {
		if (servo.rise != 0) {
			uint32_t period = cycles_to_us(now - servo.rise);
			if (period != servo.period_us)
				emit("pulse-period %u", period);
			servo.period_us = period;
		}
		servo.rise = now;
		avr_cycle_timer_cancel(avr, servo_silent, NULL);
		avr_cycle_timer_register_usec(avr, SERVO_OFF_US, servo_silent, NULL);
	} else if (servo.rise != 0) {
		uint32_t width = cycles_to_us(now - servo.rise);
		if (width != servo.width_us)
			emit("servo %u", width);
		servo.width_us = width;
	}
}

/* ---- WS2812 ------------------------------------------------------------ */

static void ws2812_clear(void)
{
	leds.bits = 0;
	leds.bad_timing = 0;
	memset(leds.bytes, 0, sizeof(leds.bytes));
}

static avr_cycle_count_t ws2812_latched(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)when; (void)param;
	if (leds.bits == 0)
		return 0;
	if (leds.bits % 24 != 0)
		emit("timing-error ws2812 frame of %u bits is not whole LEDs", leds.bits);
	uint32_t count = (leds.bits + 23) / 24;
	char line[MAX_LEDS * 7 + 16];
	size_t n = (size_t)snprintf(line, sizeof(line), "ws2812");
	for (uint32_t i = 0; i < count && n < sizeof(line); i++) {
		const uint8_t *grb = leds.bytes + 3 * i;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %02x%02x%02x", grb[1], grb[0], grb[2]);
	}
	emit("%s", line);
	ws2812_clear();
	return 0;
}

static void ws2812_pin(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	int level = value & 1;
	if (level == leds.level)
		return;
	leds.level = level;
	avr_cycle_count_t now = avr->cycle;
	if (level) {
		avr_cycle_timer_cancel(avr, ws2812_latched, NULL);
		if (leds.bits > 0 && leds.fall != 0) {
			uint32_t gap = cycles_to_ns(now - leds.fall);
			if (gap > WS_MAX_GAP)
				emit("timing-error ws2812 low for %u ns inside a frame", gap);
		}
		leds.rise = now;
		return;
	}
	leds.fall = now;
	uint32_t high = cycles_to_ns(now - leds.rise);
	int bit;
	if (high >= WS_T0H_MIN && high <= WS_T0H_MAX) {
		bit = 0;
	} else if (high >= WS_T1H_MIN && high <= WS_T1H_MAX) {
		bit = 1;
	} else {
		emit("timing-error ws2812 high for %u ns", high);
		bit = high > (WS_T0H_MAX + WS_T1H_MIN) / 2;
	}
	if (leds.bits < MAX_LEDS * 24) {
		if (bit)
			leds.bytes[leds.bits / 8] |= (uint8_t)(0x80 >> (leds.bits % 8));
		leds.bits++;
	}
	avr_cycle_timer_register_usec(avr, WS_LATCH_US, ws2812_latched, NULL);
}

/* ---- timer fix ---------------------------------------------------------
 * simavr 1.6 ignores a write to OCRnx while a 16-bit timer runs in fast PWM
 * mode; only a change of mode or clock brings it in. The ATmega328P takes
 * the new value at the next BOTTOM (the register is double-buffered), so the
 * servo's new pulse width starts with the next period. We do the same: the
 * compare time of the next periods follows the register as soon as it is
 * written, and the compare of the period under way stays as it was. */

static void ocr_written(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param)
{
	(void)addr; (void)v;
	avr_timer_comp_t *comp = param;
	avr_timer_t *timer = comp->timer;
	/* simavr 1.6 files mode 14 (fast PWM, TOP = ICR1) under its "pwm" kind. */
	int pwm = timer->mode.kind == avr_timer_wgm_fast_pwm || timer->mode.kind == avr_timer_wgm_pwm;
	if (!pwm || timer->cs_div_value == 0)
		return;
	uint32_t ocr = a->data[comp->r_ocr] | (comp->r_ocrh ? a->data[comp->r_ocrh] << 8 : 0);
	comp->comp_cycles = (ocr != 0 && ocr <= timer->tov_top)
	    ? (uint64_t)(ocr + 1) * timer->cs_div_value : 0;
}

static void fix_fast_pwm(void)
{
	for (avr_io_t *io = avr->io_port; io != NULL; io = io->next) {
		if (io->kind == NULL || strcmp(io->kind, "timer") != 0)
			continue;
		avr_timer_t *timer = (avr_timer_t *)io;
		for (int i = 0; i < AVR_TIMER_COMP_COUNT; i++) {
			avr_timer_comp_t *comp = &timer->comp[i];
			if (comp->r_ocr == 0 || comp->r_ocrh == 0)
				continue;  /* 8-bit timers are modelled correctly */
			comp->timer = timer;
			avr_register_io_write(avr, comp->r_ocr, ocr_written, comp);
		}
	}
}

/* ---- serial line ------------------------------------------------------- */

static void uart_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	if (!connected)
		return;  /* nobody has the port open: the byte is lost, as on a board */
	uint8_t byte = (uint8_t)value;
	/* A host that stops reading fills the pty; drop rather than stall the MCU. */
	if (write(master, &byte, 1) < 0 && errno != EAGAIN && errno != EIO)
		perror("gongsim: write to pty");
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	if (value)
		uart_xoff = 0;
}

static void uart_xoff_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	uart_xoff = value != 0;
}

static void feed_board(void)
{
	while (!uart_xoff && to_board.head != to_board.tail) {
		uint8_t byte = to_board.data[to_board.tail];
		to_board.tail = (to_board.tail + 1) % HOST_QUEUE;
		avr_raise_irq(uart_input, byte);
	}
}

static void read_host(void)
{
	uint8_t buf[256];
	for (;;) {
		size_t space = (to_board.tail + HOST_QUEUE - to_board.head - 1) % HOST_QUEUE;
		if (space == 0)
			return;  /* the board is behind; the rest waits in the pty */
		size_t want = space < sizeof(buf) ? space : sizeof(buf);
		ssize_t got = read(master, buf, want);
		if (got <= 0)
			return;
		for (ssize_t i = 0; i < got; i++) {
			to_board.data[to_board.head] = buf[i];
			to_board.head = (to_board.head + 1) % HOST_QUEUE;
		}
	}
}

/* Returns whether a host opened the port since the last call, when nobody had
 * it open before (an Arduino resets then: the open raises DTR), and keeps
 * `connected` up to date. inotify sees every open and close, even a quick
 * close and reopen; without it, the master's hangup (nobody has the slave
 * open) is the fallback, which can miss a reopen between two looks. */
static int host_opened(void)
{
	int opened = 0;
	if (port_watch >= 0) {
		char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t got;
		while ((got = read(port_watch, buf, sizeof(buf))) > 0) {
			for (char *p = buf; p < buf + got;) {
				const struct inotify_event *event = (const struct inotify_event *)p;
				if (event->mask & IN_OPEN) {
					if (openers++ == 0)
						opened = 1;
				} else if ((event->mask & IN_CLOSE) && openers > 0) {
					openers--;
				}
				p += sizeof(*event) + event->len;
			}
		}
		connected = openers > 0;
		return opened;
	}
	struct pollfd p = {.fd = master, .events = POLLIN};
	if (poll(&p, 1, 0) < 0)
		return 0;
	int present = !(p.revents & POLLHUP);
	opened = present && !connected;
	connected = present;
	return opened;
}

static int open_pty(char *name, size_t size)
{
	int slave;
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0) {
		perror("gongsim: openpty");
		return -1;
	}
	if (ttyname_r(slave, name, size) != 0) {
		perror("gongsim: ttyname");
		return -1;
	}
	/* Raw, so the line discipline never echoes the board's output back to it. */
	struct termios tio;
	tcgetattr(slave, &tio);
	cfmakeraw(&tio);
	cfsetispeed(&tio, B9600);
	cfsetospeed(&tio, B9600);
	tcsetattr(slave, TCSANOW, &tio);
	/* Closed, so that nobody has it open until a host does. */
	close(slave);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	port_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (port_watch >= 0 && inotify_add_watch(port_watch, name, IN_OPEN | IN_CLOSE) < 0) {
		close(port_watch);
		port_watch = -1;
	}
	return 0;
}

/* ---- clock ------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to seconds, waking early when the host sends something. */
static void wait_for_host(double seconds)
{
	if (seconds <= 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)seconds,
	                      .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9)};
	if (connected) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		ppoll(&p, 1, &ts, NULL);
	} else {
		nanosleep(&ts, NULL);
	}
}

/* ---- board ------------------------------------------------------------- */

static void reset_board(void)
{
	/* In reset and in the bootloader the servo gets no pulses. */
	if (servo.width_us != 0)
		emit("servo off");
	avr_cycle_timer_cancel(avr, servo_silent, NULL);
	avr_cycle_timer_cancel(avr, ws2812_latched, NULL);
	avr_reset(avr);
	/* The reset puts the pins back to inputs; forget half-seen pulses. */
	servo.level = 0;
	servo.rise = 0;
	servo.width_us = 0;
	servo.period_us = 0;
	leds.level = 0;
	ws2812_clear();
	uart_xoff = 0;
	to_board.head = to_board.tail = 0;
}

static void watch_pin(char port, int bit, avr_irq_notify_t notify)
{
	avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit);
	if (irq == NULL) {
		fprintf(stderr, "gongsim: no pin P%c%d on %s\n", port, bit, opt.mcu);
		exit(2);
	}
	avr_irq_register_notify(irq, notify, NULL);
}

static void connect_uart(void)
{
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	/* No console echo on stdout (it carries events) and no polling naps
	 * (the main loop keeps time). */
	flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	uart_input = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
	                        uart_output, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
	                        uart_xon, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
	                        uart_xoff_hook, NULL);
}

/* The main loop keeps time itself; simavr's own sleep would nap twice. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	(void)a; (void)how_long;
}

static void quiet_logger(avr_t *a, const int level, const char *format, va_list ap)
{
	if (level <= (a ? a->log : LOG_ERROR))
		vfprintf(stderr, format, ap);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ---- options ----------------------------------------------------------- */

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: gongsim [options] FIRMWARE.elf\n"
	        "  --mcu NAME          MCU to simulate (atmega328p)\n"
	        "  --frequency HZ      clock (16000000)\n"
	        "  --servo PIN         servo pin to watch, port letter and bit (B1 = pin 9)\n"
	        "  --ws2812 PIN        WS2812 data pin to watch (D6 = pin 6)\n"
	        "  --speed X           simulated seconds per real second; 0 runs flat out (1)\n"
	        "  --boot-delay S      seconds from a port open to the sketch starting (0.25)\n"
	        "  --no-reset-on-open  keep running when the port is opened\n"
	        "  --exit-with-stdin   exit when stdin closes (when the parent goes away)\n");
}

static int parse_pin(const char *text, char *port, int *bit)
{
	if (strlen(text) != 2 || text[0] < 'A' || text[0] > 'L' || text[1] < '0' || text[1] > '7')
		return -1;
	*port = text[0];
	*bit = text[1] - '0';
	return 0;
}

static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"mcu", required_argument, NULL, 'm'},
		{"frequency", required_argument, NULL, 'f'},
		{"servo", required_argument, NULL, 's'},
		{"ws2812", required_argument, NULL, 'w'},
		{"speed", required_argument, NULL, 'x'},
		{"boot-delay", required_argument, NULL, 'b'},
		{"no-reset-on-open", no_argument, NULL, 'n'},
		{"exit-with-stdin", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': opt.mcu = optarg; break;
		case 'f': opt.frequency = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 's':
			if (parse_pin(optarg, &opt.servo_port, &opt.servo_bit) < 0) goto bad;
			break;
		case 'w':
			if (parse_pin(optarg, &opt.led_port, &opt.led_bit) < 0) goto bad;
			break;
		case 'x': opt.speed = strtod(optarg, NULL); break;
		case 'b': opt.boot_delay = strtod(optarg, NULL); break;
		case 'n': opt.reset_on_open = 0; break;
		case 'e': opt.exit_with_stdin = 1; break;
		case 'h': usage(stdout); exit(0);
		default: goto bad;
		}
	}
	if (optind != argc - 1 || opt.frequency == 0 || opt.speed < 0)
		goto bad;
	opt.elf = argv[optind];
	return;
bad:
	usage(stderr);
	exit(2);
}

/* ---- main -------------------------------------------------------------- */

static int stdin_closed(void)
{
	struct pollfd p = {.fd = 0, .events = POLLIN};
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
		return 1;
	char buf[64];
	return read(0, buf, sizeof(buf)) == 0;
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);

	/* Events own stdout; anything the library prints goes to stderr. */
	events = fdopen(dup(STDOUT_FILENO), "w");
	dup2(STDERR_FILENO, STDOUT_FILENO);
	avr_global_logger_set(quiet_logger);

	elf_firmware_t firmware;
	memset(&firmware, 0, sizeof(firmware));
	if (elf_read_firmware(opt.elf, &firmware) != 0) {
		fprintf(stderr, "gongsim: cannot read %s\n", opt.elf);
		return 1;
	}
	avr = avr_make_mcu_by_name(opt.mcu);
	if (avr == NULL) {
		fprintf(stderr, "gongsim: unknown MCU %s\n", opt.mcu);
		return 1;
	}
	avr_init(avr);
	avr->log = LOG_ERROR;
	avr->frequency = opt.frequency;
	firmware.frequency = opt.frequency;
	avr_load_firmware(avr, &firmware);
	avr->sleep = no_sleep;

	connect_uart();
	fix_fast_pwm();
	watch_pin(opt.servo_port, opt.servo_bit, servo_pin);
	watch_pin(opt.led_port, opt.led_bit, ws2812_pin);

	char name[64];
	if (open_pty(name, sizeof(name)) < 0)
		return 1;
	fprintf(events, "pty %s\n", name);
	fflush(events);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	/* Run in slices of 0.5 ms of simulated time (about half a byte at 9600
	 * baud), looking at the host between slices. */
	const avr_cycle_count_t slice = opt.frequency / 2000;
	double started = now_seconds();
	double wall_start = started;
	avr_cycle_count_t sim_start = avr->cycle;
	double booting_until = -1;
	int state = cpu_Running;

	while (!stopping) {
		if (host_opened() && opt.reset_on_open) {
			emit("reset");
			reset_board();
			booting_until = now_seconds() + opt.boot_delay;
		}
		if (connected)
			read_host();
		if (opt.exit_with_stdin && stdin_closed())
			break;

		if (booting_until >= 0) {
			double left = booting_until - now_seconds();
			if (left > 0) {
				/* The bootloader's wait: the host's bytes go nowhere. */
				to_board.head = to_board.tail = 0;
				wait_for_host(left < 0.01 ? left : 0.01);
				continue;
			}
			booting_until = -1;
			wall_start = now_seconds();
			sim_start = avr->cycle;
		}

		feed_board();
		avr_cycle_count_t end = avr->cycle + slice;
		while (avr->cycle < end) {
			state = avr_run(avr);
			if (state == cpu_Done || state == cpu_Crashed)
				goto done;
		}

		if (opt.speed > 0) {
			double due = wall_start
			    + (double)(avr->cycle - sim_start) / opt.frequency / opt.speed;
			double ahead = due - now_seconds();
			if (ahead > 0) {
				wait_for_host(ahead);
			} else if (ahead < -0.2) {
				/* Far behind (a busy host): catch up from here, not in a burst. */
				wall_start -= ahead;
			}
		}
	}
done:
	fprintf(stderr, "gongsim: %.3f s simulated in %.3f s\n", sim_seconds(), now_seconds() - started);
	if (state == cpu_Crashed) {
		fprintf(stderr, "gongsim: the firmware crashed at pc 0x%04x\n", avr->pc);
		return 1;
	}
	avr_terminate(avr);
	return 0;
}
