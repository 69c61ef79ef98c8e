// Every bit takes 20 cycles (1.25 us at 16 MHz): the line goes high, falls
// after 5 cycles (0.31 us) for a 0 or after 13 cycles (0.81 us) for a 1, and
// stays low for the rest. That is within the WS2812 and WS2812B limits
// (T0H 0.22-0.55 us, T1H 0.58-1.0 us). The timing comes from counted
// instructions, hence the assembly, and only holds for F_CPU = 16 MHz.
#include "ws2812.h"

#include <Arduino.h>
#include <avr/interrupt.h>
#include <avr/io.h>

#if F_CPU != 16000000UL
#error "ws2812.cpp counts cycles for a 16 MHz clock"
#endif

namespace ws2812 {

static uint32_t last_frame_us = 0;

void begin() {
  PORTD &= ~_BV(PORTD6);
  DDRD |= _BV(DDD6);
  last_frame_us = micros();
}

void send(const uint8_t* bytes, uint16_t count) {
  if (count == 0) return;
  while (micros() - last_frame_us < kLatchUs) {
  }
  uint8_t saved_sreg = SREG;
  cli();
  uint8_t high = PORTD | _BV(PORTD6);
  uint8_t low = PORTD & ~_BV(PORTD6);
  uint8_t byte = *bytes++;
  uint8_t bits = 8;
  // Cycle counts are in the comments (t = cycles since the rising edge).
  asm volatile(
      "1:                 \n\t"
      "out  %[port], %[high] \n\t"  // t0: rise
      "nop                \n\t"     // t1
      "nop                \n\t"     // t2
      "nop                \n\t"     // t3
      "sbrs %[byte], 7    \n\t"     // t4: a 1 skips the next out (2 cycles)
      "out  %[port], %[low] \n\t"   // t5: a 0 falls here
      "lsl  %[byte]       \n\t"     // t6
      "dec  %[bits]       \n\t"     // t7
      "breq 2f            \n\t"     // t8 (taken: t8-t9)
      "nop                \n\t"     // t9
      "nop                \n\t"     // t10
      "nop                \n\t"     // t11
      "nop                \n\t"     // t12
      "out  %[port], %[low] \n\t"   // t13: a 1 falls here
      "nop                \n\t"     // t14
      "nop                \n\t"     // t15
      "nop                \n\t"     // t16
      "nop                \n\t"     // t17
      "rjmp 1b            \n\t"     // t18-t19
      "2:                 \n\t"
      "ld   %[byte], %a[ptr]+ \n\t" // t10-t11 (one byte past the end is read, never sent)
      "ldi  %[bits], 8    \n\t"     // t12
      "out  %[port], %[low] \n\t"   // t13: a 1 falls here
      "sbiw %[count], 1   \n\t"     // t14-t15
      "breq 3f            \n\t"     // t16
      "nop                \n\t"     // t17
      "rjmp 1b            \n\t"     // t18-t19
      "3:                 \n\t"
      : [byte] "+r"(byte), [bits] "+d"(bits), [ptr] "+e"(bytes), [count] "+w"(count)
      : [port] "I"(_SFR_IO_ADDR(PORTD)), [high] "r"(high), [low] "r"(low));
  SREG = saved_sreg;
  last_frame_us = micros();
}

}  // namespace ws2812
