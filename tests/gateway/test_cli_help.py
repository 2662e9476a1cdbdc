"""Every `ledgergate` command, option and argument says what it is in `--help`."""

from __future__ import annotations

import argparse

from gateway.cli import build_parser


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ("ledgergate",)):
    """(command path, its parser, the help its parent gave it) of every (sub)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name)
                yield from _commands(sub, (*path, name))


def test_every_subcommand_has_a_help_string():
    missing = [" ".join(path) for path, _, help in _commands(build_parser()) if not help]
    assert not missing, f"subcommands without help: {missing}"


def test_every_option_and_argument_has_a_help_string():
    missing = []
    for path, parser, _ in _commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                name = "/".join(action.option_strings) or action.metavar or action.dest
                missing.append(f"{' '.join(path)} {name}")
    assert not missing, f"options and arguments without help: {missing}"


def test_the_walk_reaches_nested_commands():
    paths = {" ".join(path) for path, _, _ in _commands(build_parser())}
    assert {"ledgergate demo", "ledgergate clients reset-secret", "ledgergate audit list",
            "ledgergate allow"} <= paths
