; Inno Setup 6 script: installs the PyInstaller one-folder build (dist\tracktion) for Windows x64.
;
;   pyinstaller --noconfirm installer\tracktion.spec
;   iscc /DAppVersion=0.1.0 installer\windows\tracktion.iss
;
; Output: dist\tracktion-<version>-windows-x64-setup.exe. Paths are relative to this file.
; Per-user install by default (no admin prompt); the user may choose all users instead.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define Root "..\.."

[Setup]
AppId={{6C7C2B0E-6E43-4A40-9B1F-3F9C1D5A7E21}
AppName=Tracktion
AppVersion={#AppVersion}
AppPublisher=Tracktion developers
AppComments=Music library manager for DJs
DefaultDirName={autopf}\Tracktion
DefaultGroupName=Tracktion
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=tracktion-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\tracktion.ico
UninstallDisplayIcon={app}\tracktion-gui.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the tracktion command to PATH"; Flags: unchecked

[Files]
Source: "{#Root}\dist\tracktion\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Tracktion"; Filename: "{app}\tracktion-gui.exe"
Name: "{group}\Uninstall Tracktion"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Tracktion"; Filename: "{app}\tracktion-gui.exe"; Tasks: desktopicon

[Registry]
; Per-user PATH entry for the console tracktion.exe (HKCU works for both install modes).
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
    Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\tracktion-gui.exe"; Description: "{cm:LaunchProgram,Tracktion}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
