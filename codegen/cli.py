"""``kwsnum codegen MODEL -o OUT [--name NAME] [--build] [--verify X.npy] [--target T] [--profile]`` (registered by cli/main.py as
``cli.add_command(codegen_command, "codegen")``).

Errors are :class:`kwsnum.errors.KwsnumError` (cli/main.py prints one line and exits with code 2); a
verification that finds a mismatch prints it and exits with code 1. Nothing here imports torch.
"""
import sys

import click

from kwsnum.text import printable


@click.command("codegen")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to create for the C project (must not exist unless --force).")
@click.option("--name", default=None, help="Name of the generated API (<name>_invoke, <name>.h); sanitized into "
                                           "a C identifier. Default: the model name.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--build", "do_build", is_flag=True, help="Compile the project's host harness with the system cc.")
@click.option("--verify", "verify_path", type=click.Path(dir_okay=False),
              help="Build, run the harness on the inputs in this .npy file and compare every output element "
                   "with the oracle (exit code 1 on a mismatch).")
@click.option("--target", "target_name", default="host", show_default=True,
              type=click.Choice(["host", "cortex-m4", "cortex-m7", "cortex-m55"]),
              help="Where --build / --verify run: the host cc, or arm-none-eabi-gcc and qemu-system-arm "
                   "(mps2-an386 / mps2-an500 / mps3-an547), which also measure instructions per inference, flash, "
                   "RAM and stack.")
@click.option("--profile", is_flag=True, help="With a Cortex-M --target and --verify: also instructions per layer.")
@click.option("--float-api", is_flag=True, help="With a Cortex-M --target and --verify: run <name>_invoke_float "
                                                "(the float contract) instead of the integer <name>_invoke.")
def codegen_command(model, out_dir, name, force, do_build, verify_path, target_name, profile, float_api):
    """Generate a standalone C99 project for MODEL (an exported .h5): static arena, const weights, the kwsnum C
    runtime, a Makefile, a CMakeLists.txt and a host harness."""
    from kwsnum import load
    from .emit import build, generate, verify
    m = load(model)
    x = None
    if verify_path:
        from kwsnum.cli.main import read_npy_checked    # the header checked before the data is read
        x = read_npy_checked(verify_path, m)
    project = generate(m, out_dir, name, overwrite=force)
    click.echo(f"{printable(project.path, None)}: {project.name}_invoke")
    click.echo(f"arena bytes: {project.arena_bytes}")
    click.echo(f"weight bytes: {project.weight_bytes}")
    if project.state_bytes:
        click.echo(f"state bytes: {project.state_bytes} (streaming state, static, not in the arena)")
    if target_name != "host":
        from .emit import verify_target
        from .target import build_target
        if x is None:
            if do_build:
                click.echo(f"built: {build_target(project.path, project.name, target_name)}")
            return
        result, run = verify_target(m, project.path, x, target_name, float_api=float_api)
        entry = f"{project.name}_invoke_float" if float_api else f"{project.name}_invoke"
        click.echo(f"{target_name} (qemu {run_machine(target_name)}): {result}")
        click.echo(f"instructions per inference: {run.instructions} (qemu -icount shift=0, SysTick between markers "
                   f"around {entry}; instructions, not cycles)")
        click.echo(f"flash bytes: {run.flash_bytes} (code and constants {run.code_bytes}, weights "
                   f"{run.flash_bytes - run.code_bytes})")
        click.echo(f"ram bytes: {run.ram_bytes} (arena {project.arena_bytes})")
        click.echo(f"stack bytes (high-water mark of {entry}): {max(run.stack)}")
        if profile:
            _, prun = verify_target(m, project.path, x[:1], target_name, profile=True, float_api=float_api)
            for layer, n in sorted(prun.layer_instructions().items()):
                node = m.nodes[layer]
                click.echo(f"  layer {layer} {printable(node.name, 64)} ({node.op}): {n} instructions")
        if not result.ok:
            sys.exit(1)
        return
    if do_build or x is not None:
        exe = build(project.path)
        click.echo(f"built: {exe}")
    if x is not None:
        result = verify(m, project.path, x)
        click.echo(str(result))
        if not result.ok:
            sys.exit(1)


def run_machine(target_name):
    from .target import TARGETS
    return TARGETS[target_name][0]
