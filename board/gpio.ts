import type { BoardKind, GpioPin } from "./schema.ts";

/**
 * Status LED and button pins. Every supported board with a 40-pin header gets them at the same
 * physical positions, header pins 11 (LED) and 13 (button) — the Pi's BCM 17 and BCM 27 — so one
 * small status board fits a Pi and a Jetson dev kit alike. Jetson lines are the ones NVIDIA's
 * Jetson.GPIO maps to those pins (its BCM mode maps BCM 17/27 to pins 11/13 too). Chips are named
 * by label because gpiochip numbers change between kernels (the Pi 5's RP1 moved from gpiochip4
 * to gpiochip0).
 */
const pin = (headerPin: number, name: string, chip: string, line: number): GpioPin => ({ headerPin, name, chip, line });

interface Pins {
  led: GpioPin | null;
  button: GpioPin | null;
  why: string;
}

const PI_WHY =
  "BCM 17 (pin 11) for the LED and BCM 27 (pin 13) for the button: plain GPIOs with no I2C, SPI, UART or PCM function, " +
  "so they stay free alongside common HATs; wire the button to ground and use the internal pull-up";
const JETSON_WHY =
  "header pins 11 (LED) and 13 (button), the Pi's BCM 17/27 positions, with the lines NVIDIA's Jetson.GPIO uses for them; " +
  "JetPack 5/6 boot these pins in their special function, so set them to GPIO once with /opt/nvidia/jetson-io/jetson-io.py";

const RPI5 = { led: pin(11, "GPIO17", "pinctrl-rp1", 17), button: pin(13, "GPIO27", "pinctrl-rp1", 27), why: PI_WHY };
const RPI4 = { led: pin(11, "GPIO17", "pinctrl-bcm2711", 17), button: pin(13, "GPIO27", "pinctrl-bcm2711", 27), why: PI_WHY };
const ORIN_NANO_NX = {
  led: pin(11, "UART1_RTS (PR.04)", "tegra234-gpio", 112),
  button: pin(13, "SPI1_SCK (PY.00)", "tegra234-gpio", 122),
  why: JETSON_WHY,
};
const AGX_ORIN = {
  led: pin(11, "UART1_RTS (PR.04)", "tegra234-gpio", 112),
  button: pin(13, "PWM01 (PR.00)", "tegra234-gpio", 108),
  why: JETSON_WHY,
};
const AGX_XAVIER = {
  led: pin(11, "UART1_RTS (PR.04)", "tegra194-gpio", 112),
  button: pin(13, "PWM01 (PR.00)", "tegra194-gpio", 108),
  why: JETSON_WHY,
};
const XAVIER_NX = {
  led: pin(11, "UART1_RTS (PR.04)", "tegra194-gpio", 112),
  button: pin(13, "SPI1_SCK (PY.00)", "tegra194-gpio", 149),
  why: JETSON_WHY,
};

/** The pins for a board; Xavier NX (module p3668) and AGX Xavier differ on pin 13's line. */
export function statusPins(kind: BoardKind, compatible: readonly string[]): Pins {
  switch (kind) {
    case "rpi5":
      return RPI5;
    case "rpi4":
      return RPI4;
    case "jetson-orin-nano":
    case "jetson-orin-nx":
      return ORIN_NANO_NX;
    case "jetson-agx-orin":
      return AGX_ORIN;
    case "jetson-xavier":
      return compatible.some((c) => c.includes("p3668")) ? XAVIER_NX : AGX_XAVIER;
    case "x86":
    case "x86-nvidia":
      return { led: null, button: null, why: "x86 mini PCs have no GPIO header; status is shown over HTTP and in the logs" };
    case "generic":
      return { led: null, button: null, why: "unknown board: no pins are assumed, since driving the wrong pin can damage what is wired to it" };
  }
}
